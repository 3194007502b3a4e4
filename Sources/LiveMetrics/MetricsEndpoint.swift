import Foundation
import Hummingbird
import Logging
import Pipeline
import Prometheus

/// Serves live runs' figures at `http://HOST:PORT/metrics` in the Prometheus text format (`--metrics`); each feed's
/// series come from its `FeedMetrics`.
public final class MetricsEndpoint: @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    private var task: Task<Void, Never>?
    /// The port the server listens on (the one asked for, or the one the system chose for port 0).
    public private(set) var port: Int = 0

    public init() {}

    /// The observer that records one feed's series.
    public func observer(feed: String) -> LiveObserver { FeedMetrics(registry: registry, feed: feed) }

    /// Starts the HTTP server and returns once it listens.
    /// - Throws: `MetricsError` when the address cannot be bound within 10 s.
    public func start(host: String, port: Int) throws {
        let router = Router()
        let registry = self.registry
        router.get("metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: registry.emitToString())))
        }
        var logger = Logger(label: "vigil.metrics")
        logger.logLevel = .critical
        let ready = DispatchSemaphore(value: 0)
        let outcome = LockedBox<Result<Int, Error>?>(nil)
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "vigil"),
                              onServerRunning: { channel in
                                  outcome.set(.success(channel.localAddress?.port ?? port)); ready.signal()
                              }, logger: logger)
        task = Task.detached {
            do { try await app.run() } catch {
                if outcome.get() == nil { outcome.set(.failure(error)); ready.signal() }
            }
        }
        guard ready.wait(timeout: .now() + 10) == .success, let result = outcome.get() else {
            throw MetricsError(address: "\(host):\(port)", reason: "the server did not start within 10 s")
        }
        switch result {
        case .success(let p): self.port = p
        case .failure(let e): throw MetricsError(address: "\(host):\(port)", reason: "\(e)")
        }
    }

    /// Stops the server.
    public func stop() { task?.cancel(); task = nil }
}

/// One feed's series: frames received, analysed and dropped, the latency from decoding to result as a histogram, the
/// last window's mean retention with its interval, the last frame's top-1 probability and retention, and
/// reconnections, each labelled with the feed's URL (`feed`).
final class FeedMetrics: LiveObserver, @unchecked Sendable {
    private let received, analysed, dropped, reconnects: Counter
    private let latency: ValueHistogram
    private let windowRetention, windowLow, windowHigh, top1, retention: Gauge

    init(registry: PrometheusCollectorRegistry, feed: String) {
        let l = [("feed", feed)]
        received = registry.makeCounter(name: "vigil_frames_received_total", labels: l, help: "Frames decoded from the feed.")
        analysed = registry.makeCounter(name: "vigil_frames_analysed_total", labels: l, help: "Frames analysed.")
        dropped = registry.makeCounter(name: "vigil_frames_dropped_total", labels: l, help: "Frames not analysed because a newer frame replaced them before an analyser was free.")
        reconnects = registry.makeCounter(name: "vigil_reconnects_total", labels: l, help: "Times the feed was reopened after it dropped.")
        latency = registry.makeValueHistogram(name: "vigil_latency_seconds", labels: l,
                                              buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30],
                                              help: "Seconds from a frame's decoding to its finished analysis.")
        windowRetention = registry.makeGauge(name: "vigil_window_retention", labels: l, help: "Mean retention of the last closed window.")
        windowLow = registry.makeGauge(name: "vigil_window_retention_low", labels: l, help: "Lower end of the last closed window's 95% retention interval.")
        windowHigh = registry.makeGauge(name: "vigil_window_retention_high", labels: l, help: "Upper end of the last closed window's 95% retention interval.")
        top1 = registry.makeGauge(name: "vigil_top1_probability", labels: l, help: "Clean top-1 probability of the last analysed frame.")
        retention = registry.makeGauge(name: "vigil_frame_retention", labels: l, help: "Retention of the last analysed frame.")
    }

    public func frameReceived() { received.increment() }
    public func frameDropped() { dropped.increment() }
    public func frameAnalysed(latency seconds: Double, top1Probability: Double, retention r: Double) {
        analysed.increment()
        latency.record(seconds)
        top1.set(top1Probability)
        retention.set(r)
    }
    public func windowClosed(meanRetention: Double, low: Double, high: Double) {
        windowRetention.set(meanRetention); windowLow.set(low); windowHigh.set(high)
    }
    public func reconnected() { reconnects.increment() }
}

/// `--metrics` could not listen.
public struct MetricsError: Error, CustomStringConvertible {
    public var address: String
    public var reason: String
    public var description: String { "cannot serve metrics on \(address): \(reason); choose another --metrics HOST:PORT" }
}

/// A value shared between threads behind a lock.
final class LockedBox<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ v: Value) { value = v }
    func get() -> Value { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ v: Value) { lock.lock(); value = v; lock.unlock() }
}
