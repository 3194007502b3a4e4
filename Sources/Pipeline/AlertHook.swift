import Foundation
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// A window's alert: one JSON line on stdout and, with `--on-alert`, a shell command run with the facts in
/// `VIGIL_ALERT_*` environment variables.
public struct AlertEvent: Codable, Sendable {
    public var event = "alert"
    public var feed: String
    public var window: Int
    public var windowStart: Double
    public var windowEnd: Double
    public var at: String
    public var frames: Int
    public var meanRetention: Double
    public var retentionLow: Double
    public var retentionHigh: Double
    public var threshold: Double
    /// The window's report.html.
    public var report: String

    /// The variables `--on-alert` sees.
    var environment: [String: String] {
        ["VIGIL_ALERT_FEED": feed, "VIGIL_ALERT_WINDOW": "\(window)", "VIGIL_ALERT_WINDOW_START": "\(windowStart)",
         "VIGIL_ALERT_WINDOW_END": "\(windowEnd)", "VIGIL_ALERT_AT": at, "VIGIL_ALERT_FRAMES": "\(frames)",
         "VIGIL_ALERT_RETENTION": String(format: "%.6f", meanRetention), "VIGIL_ALERT_RETENTION_LOW": String(format: "%.6f", retentionLow),
         "VIGIL_ALERT_RETENTION_HIGH": String(format: "%.6f", retentionHigh), "VIGIL_ALERT_THRESHOLD": "\(threshold)",
         "VIGIL_ALERT_REPORT": report]
    }

    /// The stdout line: compact JSON with sorted keys.
    var jsonLine: String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: e.encode(self), as: UTF8.self)) ?? "{\"event\":\"alert\"}"
    }
}

/// Runs `--on-alert` commands through `/bin/sh -c` without blocking the analysis, and waits for them at the end.
final class AlertHook: @unchecked Sendable {
    let command: String
    /// Longest a command may run before it is killed.
    let timeout: Double
    private let group = DispatchGroup()

    init(command: String, timeout: Double = 60) { self.command = command; self.timeout = timeout }

    /// Starts the command; `done` gets its exit status (nil when it could not start or was killed for the timeout).
    func run(_ alert: AlertEvent, done: @escaping @Sendable (Int32?) -> Void) {
        group.enter()
        let command = self.command, timeout = self.timeout
        var table: [Environment.Key: String?] = [:]
        for (k, v) in alert.environment { table[Environment.Key(stringLiteral: k)] = v }
        let overrides = table
        Task.detached { [group] in
            defer { group.leave() }
            do {
                let result = try await withThrowingTaskGroup(of: Int32?.self) { tasks in
                    tasks.addTask {
                        let r = try await Subprocess.run(.path(FilePath("/bin/sh")), arguments: ["-c", command],
                                                         environment: .inherit.updating(overrides), output: .discarded, error: .discarded)
                        if case let .exited(code) = r.terminationStatus { return code }
                        return nil
                    }
                    tasks.addTask { try await Task.sleep(nanoseconds: UInt64(timeout * 1e9)); return nil }
                    let first = try await tasks.next() ?? nil
                    tasks.cancelAll()
                    return first
                }
                done(result)
            } catch {
                done(nil)
            }
        }
    }

    /// Waits up to `seconds` for the commands still running.
    func wait(seconds: Double) { _ = group.wait(timeout: .now() + seconds) }
}
