import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `vigil analyze` on live feeds published by a real ffmpeg: joined mid-stream over UDP MPEG-TS, reconnected when the
/// publisher is killed and restarted, interrupted with SIGINT, and over ffmpeg's own HTTP listener. Every window's
/// report, the index and the alert lines are checked against their schemas and against each other; the metrics are
/// scraped while the run goes on; the HLS overlay is read by ffprobe.
@Suite(.serialized) struct LiveEndToEndTests {
    static let vtest = "Fixtures/video/vtest.avi"

    /// A port nothing listens on now (UDP and TCP share the range; collisions are unlikely in 20000-45000).
    static func port() -> Int { Int.random(in: 20000...45000) }

    /// ffmpeg publishing the fixture in a loop, in real time, as H.264 with a key frame every `gop` frames.
    static func publish(_ url: String, format: String = "mpegts", extra: [String] = []) throws -> Process {
        let (p, _, _) = try Subprocess.start("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-re", "-stream_loop", "-1", "-i", FixturePaths.path(vtest),
                                                                "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-f", format] + extra + [url])
        return p
    }

    static func stop(_ p: Process) { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }

    static func json(_ path: String) -> JSONValue? {
        (try? Data(contentsOf: URL(fileURLWithPath: path))).flatMap { try? JSONValue.parse($0) }
    }

    /// Waits until `condition` holds, up to `seconds`.
    static func wait(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date(timeIntervalSinceNow: seconds)
        while Date() < end { if condition() { return true }; usleep(200_000) }
        return condition()
    }

    /// Checks a finished live folder: index.json against its schema, every window's report and frames.jsonl against
    /// theirs, frame numbers increasing across windows, and the windows' frames adding up to the analysed count.
    /// Returns the index.
    @discardableResult
    static func checkFolder(_ dir: String) throws -> JSONValue {
        let indexData = try Data(contentsOf: URL(fileURLWithPath: dir + "/index.json"))
        try JSONSchemaValidator(schemaFile: FixturePaths.path("scripts/schema/live-index.schema.json")).validate(document: indexData)
        let index = try JSONValue.parse(indexData)
        var total = 0, last = -1
        for w in index["windows"]?.arrayValue ?? [] {
            let folder = dir + "/windows/" + (w["folder"]?.stringValue ?? "?")
            let frames = try JSONSchemaValidator.validateReportFolder(folder)
            #expect(frames.count == Int(w["frames"]?.double ?? -1))
            for f in frames {
                let n = Int(f["frame"]?.double ?? -1)
                #expect(n > last, "frame numbers increase across windows and reconnections")
                last = n
                let t = f["pts"]?.double ?? -1
                #expect(t >= (w["startTime"]?.double ?? 0) && t < (w["endTime"]?.double ?? 0), "frame at \(t) s inside its window")
            }
            total += frames.count
        }
        if (index["prunedWindows"]?.double ?? 0) == 0 {
            #expect(total == Int(index["counts"]?["analysed"]?.double ?? -1), "windows hold every analysed frame")
        }
        let c = index["counts"]
        #expect((c?["received"]?.double ?? 0) >= (c?["analysed"]?.double ?? 0) + (c?["dropped"]?.double ?? 0))
        return index
    }

    /// Joined mid-stream (the size comes from the first key frame), windows of 2 s, alerts with a hook, metrics scraped
    /// and the HLS overlay read while the run goes on.
    @Test func udpFeedJoinedMidStream() throws {
        let port = Self.port(), metricsPort = Self.port()
        let url = "udp://127.0.0.1:\(port)"
        let publisher = try Self.publish(url)
        defer { Self.stop(publisher) }
        usleep(1_500_000)  // the publisher is well past its first key frame when vigil joins
        let out = Subprocess.tempDirectory("live-udp")
        let hookFile = out + "/hook.txt"
        let (p, o, e) = try Subprocess.start(Subprocess.vigil, ["analyze", url, "--out", out, "--max-frames", "14", "--window", "2s", "--patches", "4",
                                                               "--metrics", "127.0.0.1:\(metricsPort)", "--alert-under", "1",
                                                               "--on-alert", "echo \"$VIGIL_ALERT_WINDOW $VIGIL_ALERT_RETENTION\" >> '\(hookFile)'"])
        nonisolated(unsafe) var errData = Data()
        let t = Thread { errData = e.fileHandleForReading.readDataToEndOfFile() }
        t.start()
        let dir = out + "/127.0.0.1_\(port)"
        // Scrape the metrics once frames are analysed, and read the HLS playlist while it grows.
        var scraped = ""
        #expect(Self.wait(60) {
            let r = try? Subprocess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(metricsPort)/metrics"])
            scraped = r?.stdout ?? ""
            return scraped.contains("vigil_frames_analysed_total{feed=\"\(url)\"} ") && !scraped.contains("vigil_frames_analysed_total{feed=\"\(url)\"} 0\n")
        }, "metrics: \(scraped)")
        #expect(scraped.contains("# TYPE vigil_latency_seconds histogram"))
        #expect(scraped.contains("vigil_frames_received_total{feed=\"\(url)\"}"))
        #expect(Self.wait(30) { (try? String(contentsOfFile: dir + "/overlay.m3u8", encoding: .utf8))?.contains(".ts") == true })
        let during = try Subprocess.ffprobe(dir + "/overlay.m3u8", "stream=width,height,codec_name")
        #expect(during["width"] == "768" && during["height"] == "576" && during["codec_name"] == "h264", "\(during)")
        let stdout = String(decoding: o.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        while !t.isFinished { usleep(1000) }
        let stderr = String(decoding: errData, as: UTF8.self)
        #expect(p.terminationStatus == 0, "stderr: \(stderr)")
        let index = try Self.checkFolder(dir)
        #expect(index["status"]?.stringValue == "ended")
        #expect(index["counts"]?["analysed"]?.double == 14)
        // One stdout line per alerting window, the same windows as the index's, and the hook ran for each.
        let alertLines = stdout.split(separator: "\n").compactMap { try? JSONValue.parse(Data($0.utf8)) }
        let alerting = (index["windows"]?.arrayValue ?? []).filter { $0["alert"]?.boolValue == true }.map { Int($0["index"]?.double ?? -1) }
        let expected = (index["windows"]?.arrayValue ?? []).filter { ($0["meanRetention"]?.double ?? 1) < 1 }.map { Int($0["index"]?.double ?? -1) }
        #expect(alerting == expected)
        #expect(alertLines.map { Int($0["window"]?.double ?? -1) } == alerting, "stdout: \(stdout)")
        #expect(alertLines.allSatisfy { $0["event"]?.stringValue == "alert" && ($0["meanRetention"]?.double ?? 2) < 1 })
        let hooks = (try? String(contentsOfFile: hookFile, encoding: .utf8)) ?? ""
        #expect(hooks.split(separator: "\n").map { Int($0.split(separator: " ")[0]) ?? -1 }.sorted() == alerting.sorted(), "hook: \(hooks)")
        #expect((index["alerts"]?.arrayValue ?? []).allSatisfy { $0["hookExitStatus"]?.double == 0 })
        // The finished overlay: every received frame, at the feed's size, with an end to its playlist.
        let playlist = try String(contentsOfFile: dir + "/overlay.m3u8", encoding: .utf8)
        #expect(playlist.contains("#EXT-X-ENDLIST"))
        let ov = try Subprocess.ffprobe(dir + "/overlay.m3u8", "stream=nb_read_frames", countFrames: true)
        let c = index["counts"]
        #expect(Int(ov["nb_read_frames"] ?? "") == Int((c?["received"]?.double ?? 0) - (c?["overlayDropped"]?.double ?? 0)), "\(ov)")
    }

    /// The publisher is killed mid-run and restarted: the run reconnects, records the gap with its end, and goes on
    /// numbering frames; --keep deletes old windows.
    @Test func reconnectsAfterThePublisherDies() throws {
        let port = Self.port()
        let url = "udp://127.0.0.1:\(port)"
        var publisher = try Self.publish(url)
        defer { Self.stop(publisher) }
        usleep(1_500_000)
        let out = Subprocess.tempDirectory("live-reconnect")
        let (p, _, e) = try Subprocess.start(Subprocess.vigil, ["analyze", url, "--out", out, "--window", "1s", "--keep", "2s", "--patches", "2",
                                                               "--timeout", "3", "--max-frames", "40", "--no-video"])
        nonisolated(unsafe) var errData = Data()
        let t = Thread { errData = e.fileHandleForReading.readDataToEndOfFile() }
        t.start()
        let dir = out + "/127.0.0.1_\(port)"
        #expect(Self.wait(60) { (Self.json(dir + "/index.json")?["counts"]?["analysed"]?.double ?? 0) >= 4 })
        Self.stop(publisher)
        #expect(Self.wait(20) { (Self.json(dir + "/index.json")?["gapCount"]?.double ?? 0) >= 1 }, "the gap is listed while it lasts")
        usleep(2_000_000)
        publisher = try Self.publish(url)
        p.waitUntilExit()
        while !t.isFinished { usleep(1000) }
        let stderr = String(decoding: errData, as: UTF8.self)
        #expect(p.terminationStatus == 0, "stderr: \(stderr)")
        let index = try Self.checkFolder(dir)
        #expect(index["reconnects"]?.double ?? 0 >= 1)
        let gap = try #require(index["gaps"]?.arrayValue?.first)
        #expect(gap["end"]?.stringValue != nil && (gap["seconds"]?.double ?? 0) > 1, "\(gap)")
        #expect(gap["cause"]?.stringValue?.contains("stalled") == true, "\(gap)")
        #expect(index["counts"]?["analysed"]?.double == 40)
        // --keep 2s with 1 s windows: old windows were deleted and are no longer listed.
        #expect((index["prunedWindows"]?.double ?? 0) > 0)
        let kept = try FileManager.default.contentsOfDirectory(atPath: dir + "/windows")
        #expect(kept.count == index["windows"]?.arrayValue?.count, "\(kept)")
        #expect(kept.count <= 3)
    }

    /// SIGINT ends the run: the open window is written (marked partial), the index says interrupted, exit 130.
    @Test func sigintWritesTheLastWindow() throws {
        let port = Self.port()
        let url = "udp://127.0.0.1:\(port)"
        let publisher = try Self.publish(url)
        defer { Self.stop(publisher) }
        let out = Subprocess.tempDirectory("live-sigint")
        let (p, _, e) = try Subprocess.start(Subprocess.vigil, ["analyze", url, "--out", out, "--window", "1h", "--patches", "2"])
        nonisolated(unsafe) var errData = Data()
        let t = Thread { errData = e.fileHandleForReading.readDataToEndOfFile() }
        t.start()
        let dir = out + "/127.0.0.1_\(port)"
        #expect(Self.wait(60) { (Self.json(dir + "/index.json")?["current"]?["frames"]?.double ?? 0) >= 3 })
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        while !t.isFinished { usleep(1000) }
        #expect(p.terminationStatus == 130, "stderr: \(String(decoding: errData, as: UTF8.self))")
        let index = try Self.checkFolder(dir)
        #expect(index["status"]?.stringValue == "interrupted")
        let w = try #require(index["windows"]?.arrayValue?.last)
        let report = try #require(Self.json(dir + "/windows/" + (w["folder"]?.stringValue ?? "") + "/report.json"))
        #expect(report["partial"]?.boolValue == true)
        #expect(try String(contentsOfFile: dir + "/overlay.m3u8", encoding: .utf8).contains("#EXT-X-ENDLIST"))
    }

    /// ffmpeg's own HTTP listener (one client, a progressive MPEG-TS stream), read with --live on.
    @Test func httpProgressiveStream() throws {
        let port = Self.port()
        let publisher = try Self.publish("http://127.0.0.1:\(port)/feed.ts", extra: ["-listen", "1"])
        defer { Self.stop(publisher) }
        usleep(1_000_000)
        let out = Subprocess.tempDirectory("live-http")
        let r = try Subprocess.vigil(["analyze", "http://127.0.0.1:\(port)/feed.ts", "--live", "on", "--out", out, "--max-frames", "5",
                                      "--window", "10s", "--patches", "2", "--no-reconnect"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let index = try Self.checkFolder(out + "/127.0.0.1_\(port)_feed.ts")
        #expect(index["counts"]?["analysed"]?.double == 5)
    }

    /// A real server started by `scripts/live/serve KIND CLIP PORT [EXTRA]`, ready once it prints "ready URL".
    final class Server {
        let process: Process
        let url: String
        init(_ kind: String, port: Int, extra: [String] = []) throws {
            // The test runner's threads block signals, and a spawned process inherits that mask: unblock them (perl's
            // sigprocmask) before the script starts, or its traps for TERM, USR1 and USR2 never run.
            let (p, o, _) = try Subprocess.start("/usr/bin/perl", ["-MPOSIX", "-e", "sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die; exec @ARGV or die",
                                                                  "/bin/bash", FixturePaths.path("scripts/live/serve"), kind,
                                                                  FixturePaths.path(LiveEndToEndTests.vtest), "\(port)"] + extra)
            process = p
            // The first line on stdout: "ready URL" (the script gives up after 30 s, printing nothing).
            var line = Data()
            while true {
                let byte = o.fileHandleForReading.readData(ofLength: 1)
                if byte.isEmpty || byte == Data("\n".utf8) { break }
                line += byte
            }
            let text = String(decoding: line, as: UTF8.self)
            guard text.hasPrefix("ready ") else { kill(p.processIdentifier, SIGTERM); throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "serve \(kind): \(text)"]) }
            url = String(text.dropFirst(6))
            reader = o
        }
        let reader: Pipe
        /// SIGUSR1 kills the publisher (the server stays up); SIGUSR2 starts it again.
        func killPublisher() { kill(process.processIdentifier, SIGUSR1) }
        func restartPublisher() { kill(process.processIdentifier, SIGUSR2) }
        /// SIGTERM, then SIGKILL after 5 s (its children die with it: they run under setpriv --pdeathsig).
        func stop() {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGTERM)
            if !LiveEndToEndTests.wait(5, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    /// RTSP from a real RTSP server (GStreamer's RTSP server library) over TCP: the publisher crashes mid-run and
    /// comes back; the run reconnects and records the gap. Then the same server over UDP transport.
    @Test func rtspOverTCPAndUDPWithAPublisherCrash() throws {
        let server = try Server("rtsp", port: Self.port())
        defer { server.stop() }
        let out = Subprocess.tempDirectory("live-rtsp")
        let (p, _, e) = try Subprocess.start(Subprocess.vigil, ["analyze", server.url, "--rtsp-transport", "tcp", "--out", out, "--window", "2s",
                                                               "--patches", "2", "--timeout", "4", "--max-frames", "30", "--no-video"])
        nonisolated(unsafe) var errData = Data()
        let t = Thread { errData = e.fileHandleForReading.readDataToEndOfFile() }
        t.start()
        let folder = { (try? FileManager.default.contentsOfDirectory(atPath: out))?.first { !$0.hasPrefix(".") }.map { out + "/" + $0 } ?? out + "/none" }
        #expect(Self.wait(60) { (Self.json(folder() + "/index.json")?["counts"]?["analysed"]?.double ?? 0) >= 4 })
        server.killPublisher()
        #expect(Self.wait(20) { (Self.json(folder() + "/index.json")?["gapCount"]?.double ?? 0) >= 1 })
        usleep(1_500_000)
        server.restartPublisher()
        p.waitUntilExit()
        while !t.isFinished { usleep(1000) }
        #expect(p.terminationStatus == 0, "stderr: \(String(decoding: errData, as: UTF8.self))")
        let index = try Self.checkFolder(folder())
        #expect((index["reconnects"]?.double ?? 0) >= 1)
        #expect(index["gaps"]?.arrayValue?.first?["end"]?.stringValue != nil)
        #expect(index["counts"]?["analysed"]?.double == 30)
        #expect(folder().hasSuffix("127.0.0.1_\(URLComponents(string: server.url)!.port!)_live"), "\(folder())")

        let udp = try Subprocess.vigil(["analyze", server.url, "--rtsp-transport", "udp", "--out", out + "/udp", "--max-frames", "4", "--patches", "2",
                                        "--window", "10s", "--no-video"])
        #expect(udp.status == 0, "\(udp.stderr)")
        let folders = try FileManager.default.contentsOfDirectory(atPath: out + "/udp").filter { !$0.hasPrefix(".") }
        #expect(folders.count == 1)
        #expect(try Self.checkFolder(out + "/udp/" + folders[0])["counts"]?["analysed"]?.double == 4)
    }

    /// A live HLS playlist over HTTP (busybox httpd serving ffmpeg's segments), found live by itself; SRT; and UDP
    /// multicast on loopback.
    @Test(arguments: [("hls", [String]()), ("srt", []), ("udp", ["239.255.0.7"])])
    func otherLiveSources(kind: String, extra: [String]) throws {
        let server = try Server(kind, port: Self.port(), extra: extra)
        defer { server.stop() }
        let out = Subprocess.tempDirectory("live-\(kind)")
        let r = try Subprocess.vigil(["analyze", server.url, "--out", out, "--max-frames", "4", "--patches", "2", "--window", "30s", "--no-video"])
        #expect(r.status == 0, "\(kind): \(r.stderr)")
        let folders = try FileManager.default.contentsOfDirectory(atPath: out).filter { !$0.hasPrefix(".") }
        #expect(folders.count == 1, "\(folders)")
        let index = try Self.checkFolder(out + "/" + folders[0])
        #expect(index["counts"]?["analysed"]?.double == 4, "\(kind)")
        #expect(index["feed"]?.stringValue == server.url)
    }
}
