import Foundation
import Testing
import TestSupport

/// Hostile inputs and faults: no crash, no hang, no false success, no mixed or stale output.
@Suite(.serialized) struct HardeningEndToEndTests {
    static let clip = "Fixtures/video/synth_h264.mp4"
    static let vtest = "Fixtures/video/vtest.avi"

    /// Waits (up to 60 s) until a running analysis of `clip` into `out` has its staging folder with at least `frames`
    /// rows in its frames.csv.
    static func waitForStaging(in out: String, clip: String, frames: Int) {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let staging = ((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []).first { $0.hasPrefix(".\(clip).partial-") }
            if let staging {
                if frames == 0 { return }
                if let csv = try? String(contentsOfFile: out + "/" + staging + "/frames.csv", encoding: .utf8), csv.split(separator: "\n").count > frames { return }
            }
            usleep(50_000)
        }
    }

    /// Values at the extremes are refused in one sentence with exit 64 (no crash, no hang).
    @Test(arguments: [["--start", "1e15"], ["--start", "inf"], ["--start", "1e300"], ["--start", "nan"], ["--fps", "inf"], ["--fps", "1e12"],
                      ["--fps", "nan"], ["--duration", "inf"], ["--timeout", "1e300"], ["--patches", "0"], ["--fail-under", "nan"]])
    func extremeFlagsAreUsageErrors(_ flags: [String]) throws {
        let r = try Subprocess.vigil(["analyze", Self.clip, "--out", Subprocess.tempDirectory("flags"), "--no-video"] + flags)
        #expect(r.status == 64, "\(flags): \(r.status) \(r.stderr)")
        #expect(r.stderr.contains(flags[0]), "\(r.stderr)")
    }

    /// A crop that rounds below one pixel, and pictures one pixel high or wide, still analyse.
    @Test func tinyCropsAndPictures() throws {
        let out = Subprocess.tempDirectory("tiny")
        let crop = try Subprocess.vigil(["analyze", Self.clip, "--resize", "center-crop:0.001", "--max-frames", "2", "--patches", "2", "--out", out, "--no-video"])
        #expect(crop.status == 0, "\(crop.stderr)")
        for size in ["1:1", "64:1", "1:48"] {
            let path = out + "/tiny-\(size.replacingOccurrences(of: ":", with: "x")).mkv"
            let ff = try Subprocess.run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x96:rate=25:duration=0.2",
                                                            "-vf", "scale=\(size)", "-c:v", "ffv1", path])
            #expect(ff.status == 0, "\(ff.stderr)")
            let r = try Subprocess.vigil(["analyze", path, "--max-frames", "2", "--patches", "2", "--out", out])
            #expect(r.status == 0, "\(size): \(r.stderr)")
            let c = try Subprocess.vigil(["classify", path, "--every", "3"])
            #expect(c.status == 0, "\(size): \(c.stderr)")
        }
    }

    /// Label files with CRLF or CR line endings give one label per line.
    @Test func crlfLabels() throws {
        let dir = Subprocess.tempDirectory("labels")
        let labels = (0..<1000).map { "label \($0)" }
        for (name, sep) in [("crlf", "\r\n"), ("cr", "\r")] {
            let path = dir + "/\(name).txt"
            try (labels.joined(separator: sep) + sep).write(toFile: path, atomically: true, encoding: .utf8)
            let r = try Subprocess.vigil(["classify", "Fixtures/images/skimage_chelsea.png", "--labels", path, "--top", "1"])
            #expect(r.status == 0, "\(name): \(r.stderr)")
            #expect(r.stdout.contains("label "), "\(r.stdout)")
            #expect(!r.stdout.contains("\r"))
        }
    }

    /// A clip named `...mp4` or `..mp4` never writes outside its own folder under --out.
    @Test func dottedNamesStayInside() throws {
        let dir = Subprocess.tempDirectory("dots")
        let out = dir + "/out"
        for name in ["...mp4", "..mp4", ".hidden.mp4"] {
            let path = dir + "/" + name
            try? FileManager.default.removeItem(atPath: path)
            try FileManager.default.copyItem(atPath: FixturePaths.path(Self.clip), toPath: path)
            let r = try Subprocess.vigil(["analyze", path, "--max-frames", "1", "--patches", "2", "--out", out, "--no-video"])
            #expect(r.status == 0, "\(name): \(r.stderr)")
        }
        let entries = try FileManager.default.contentsOfDirectory(atPath: out).filter { !$0.hasPrefix(".") }.sorted()
        #expect(entries == ["clip", "hidden"], "\(entries)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/report.json"))
        #expect(!FileManager.default.fileExists(atPath: out + "/report.json"))
    }

    /// Two runs into the same folder at once: the second is refused (exit 73) and the first one's results are whole.
    @Test func concurrentRunsAreRefused() throws {
        let out = Subprocess.tempDirectory("concurrent")
        let (p, _, _) = try Subprocess.start(Subprocess.vigil, ["analyze", Self.vtest, "--out", out, "--patches", "8"])
        Self.waitForStaging(in: out, clip: "vtest", frames: 0)
        let second = try Subprocess.vigil(["analyze", Self.vtest, "--out", out, "--max-frames", "2", "--patches", "2"])
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(second.status == 73, "\(second.stderr)")
        #expect(second.stderr.contains("another vigil run is writing"), "\(second.stderr)")
        #expect(p.terminationStatus == 130)
        // The folder is the first run's alone: its report and CSV agree.
        let report = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: out + "/vtest/report.json")))
        let n = Int(report["frameCount"]?.double ?? -1)
        #expect(report["partial"]?.boolValue == true)
        let rows = try String(contentsOfFile: out + "/vtest/frames.csv", encoding: .utf8).split(separator: "\n").count
        #expect(rows == n + 1, "\(rows) CSV rows for \(n) frames")
    }

    /// A re-run that is killed leaves the previous complete folder as it was; the next run cleans up after it.
    @Test func killedRerunLeavesPreviousResults() throws {
        let out = Subprocess.tempDirectory("killed")
        let first = try Subprocess.vigil(["analyze", Self.vtest, "--out", out, "--max-frames", "3", "--patches", "4"])
        #expect(first.status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: out + "/vtest/report.json"))
        let (p, _, _) = try Subprocess.start(Subprocess.vigil, ["analyze", Self.vtest, "--out", out, "--patches", "4"])
        Self.waitForStaging(in: out, clip: "vtest", frames: 2)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/vtest/report.json")) == before)
        #expect(try String(contentsOfFile: out + "/vtest/frames.csv", encoding: .utf8).split(separator: "\n").count == 4)
        let again = try Subprocess.vigil(["analyze", Self.vtest, "--out", out, "--max-frames", "2", "--patches", "2", "--no-video"])
        #expect(again.status == 0)
        let left = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.contains(".partial-") || $0.contains(".replaced-") }
        #expect(left.isEmpty, "\(left)")
        #expect(!FileManager.default.fileExists(atPath: out + "/vtest/overlay.mp4"), "a --no-video re-run replaces the folder whole")
    }

    /// An output folder that cannot be created is an output error (73) in one sentence, not an NSError dump.
    @Test func unwritableOutput() throws {
        let dir = Subprocess.tempDirectory("unwritable")
        let file = dir + "/a-file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let r = try Subprocess.vigil(["analyze", Self.clip, "--out", file + "/sub", "--max-frames", "1", "--no-video"])
        #expect(r.status == 73, "\(r.stderr)")
        #expect(r.stderr.contains("cannot write the output folder"), "\(r.stderr)")
        #expect(!r.stderr.contains("NSCocoaErrorDomain") && !r.stderr.contains("UserInfo"), "\(r.stderr)")
    }
}

/// A network source that accepts the connection and then sends nothing.
struct SilentServer {
    let fd: Int32, port: UInt16
    init() throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) } }
        guard bound == 0, listen(s, 8) == 0 else { throw CocoaError(.fileWriteUnknown) }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        fd = s
        port = UInt16(bigEndian: addr.sin_port)
    }
    func close() { _ = Glibc.close(fd) }
}

extension HardeningEndToEndTests {
    /// Ctrl-C while a network source stalls stops within about a second, not after --timeout.
    @Test func interruptDuringStallIsPrompt() throws {
        let server = try SilentServer()
        defer { server.close() }
        let out = Subprocess.tempDirectory("stall")
        let (p, _, errPipe) = try Subprocess.start(Subprocess.vigil, ["analyze", "http://127.0.0.1:\(server.port)/feed.mp4", "--out", out, "--timeout", "60"])
        // Once vigil connects it has set up its signal handling and is waiting for data.
        let conn = accept(server.fd, nil, nil)
        defer { if conn >= 0 { _ = Glibc.close(conn) } }
        usleep(500_000)
        let sent = Date()
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        let waited = Date().timeIntervalSince(sent)
        let err = String(decoding: errPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 130, "\(err)")
        #expect(waited < 3, "took \(waited) s to stop")
    }
}

extension HardeningEndToEndTests {
    /// Truncated or damaged input is analysed as far as it goes, recorded in the report's `input`, said on stderr, and
    /// exits 74, which a CI job can tell from success; a whole file says complete.
    @Test(arguments: [("Fixtures/bad/truncated_faststart.mp4", "frames the file declares"), ("Fixtures/bad/truncated.mkv", "the file declares"),
                      ("Fixtures/bad/garbage_middle.mp4", "damaged packet"), ("Fixtures/video/carphone_pristine.mp4", "")])
    func incompleteInputIsReported(_ clip: String, _ problem: String) throws {
        let out = Subprocess.tempDirectory("incomplete")
        let r = try Subprocess.vigil(["analyze", clip, "--out", out, "--every", "10", "--patches", "2", "--no-video"])
        let folder = out + "/" + ((clip as NSString).lastPathComponent as NSString).deletingPathExtension
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/report.json"))
        try JSONSchemaValidator.validateReportFolder(folder)
        let input = try JSONValue.parse(data)["input"]
        if problem.isEmpty {
            #expect(r.status == 0, "\(r.stderr)")
            #expect(input?["complete"]?.boolValue == true)
            #expect(input?["decodedFrames"]?.double == 120)
        } else {
            #expect(r.status == 74, "\(clip): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("incomplete") && r.stderr.contains(problem), "\(r.stderr)")
            #expect(input?["complete"]?.boolValue == false)
            #expect(input?["problem"]?.stringValue?.contains(problem) == true)
        }
    }
}

extension HardeningEndToEndTests {
    /// Negative numbers reach validation, which says what range is allowed (not ArgumentParser's "Missing value").
    @Test(arguments: [["--patches", "-1"], ["--every", "-3"], ["--max-frames", "-1"], ["--start", "-2"], ["--threads", "-1"],
                      ["--window", "-1"], ["--keep", "-1"]])
    func negativeValuesAreExplained(_ flags: [String]) throws {
        let r = try Subprocess.vigil(["analyze", Self.clip, "--out", Subprocess.tempDirectory("neg"), "--no-video"] + flags)
        #expect(r.status == 64)
        #expect(r.stderr.contains(flags[0]) && !r.stderr.contains("Missing value"), "\(r.stderr)")
    }

    /// FFmpeg's image-sequence syntax is read as a clip.
    @Test func imageSequence() throws {
        let dir = Subprocess.tempDirectory("sequence")
        let ff = try Subprocess.run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x96:rate=25:duration=0.2",
                                                        dir + "/img%03d.png"])
        #expect(ff.status == 0)
        let r = try Subprocess.vigil(["analyze", dir + "/img%03d.png", "--out", dir + "/out", "--patches", "2", "--no-video"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("5 frames analysed"), "\(r.stderr)")
    }

    /// A card whose inputSize is not two positive extents is refused in one sentence naming the card.
    @Test func cardWithEmptyInputSize() throws {
        let dir = Subprocess.tempDirectory("card")
        let card = dir + "/bad.card.json"
        try Data(#"{"inputSize": [0, 0]}"#.utf8).write(to: URL(fileURLWithPath: card))
        let r = try Subprocess.vigil(["analyze", Self.clip, "--card", card, "--out", dir, "--no-video"])
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains(card) && r.stderr.contains("inputSize [0, 0] must be [height, width]"), "\(r.stderr)")
    }
}

/// Runs a command and returns its exit status and its own peak resident memory, in bytes: the largest `VmHWM` of
/// /proc/PID/status seen while it runs, polled every 5 ms. (Not wait4's `ru_maxrss`: posix_spawn starts the child
/// in the test runner's address space, and Linux carries that space's high-water mark into the child's maxrss at
/// exec, so a test runner that has grown past the limit made every child look as big.)
func runMeasuringPeakMemory(_ exe: String, _ args: [String]) throws -> (status: Int32, peakBytes: Int) {
    var pid: pid_t = 0
    let argv = ([exe] + args).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    guard posix_spawn(&pid, exe, &actions, nil, argv, environ) == 0 else { throw CocoaError(.executableLoad) }
    var status: Int32 = 0
    var peak = 0
    while waitpid(pid, &status, WNOHANG) == 0 {
        if let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") {
            peak = max(peak, kb * 1024)
        }
        usleep(5_000)
    }
    return ((status >> 8) & 0xff, peak)
}

extension HardeningEndToEndTests {
    /// Peak memory does not grow with the number of analysed frames (a queue once kept up to 64 finished frames
    /// alive), and thousands of patches are evaluated in bounded chunks.
    @Test func memoryStaysFlat() throws {
        let dir = Subprocess.tempDirectory("memory")
        let clip = dir + "/hd.mp4"
        let ff = try Subprocess.run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25:duration=4",
                                                        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", clip])
        #expect(ff.status == 0)
        let vigil = Subprocess.vigil
        let short = try runMeasuringPeakMemory(vigil, ["analyze", clip, "--out", dir + "/a", "--max-frames", "30", "--patches", "2", "--no-video"])
        let long = try runMeasuringPeakMemory(vigil, ["analyze", clip, "--out", dir + "/b", "--max-frames", "100", "--patches", "2", "--no-video"])
        #expect(short.status == 0 && long.status == 0)
        #expect(Double(long.peakBytes) <= 1.15 * Double(short.peakBytes), "peak \(short.peakBytes >> 20) MB at 30 frames, \(long.peakBytes >> 20) MB at 100")
        let many = try runMeasuringPeakMemory(vigil, ["analyze", clip, "--out", dir + "/c", "--max-frames", "1", "--patches", "1024", "--no-video"])
        #expect(many.status == 0)
        #expect(many.peakBytes < 900 << 20, "peak \(many.peakBytes >> 20) MB with 1024 patches")
    }
}

extension HardeningEndToEndTests {
    /// A disk that fills up mid-run: exit 73, one sentence naming the file and what to do, and no folder that
    /// looks complete (mounts a 600 KB tmpfs, so it needs root, as CI has).
    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root")) func fullDisk() throws {
        let mountPoint = Subprocess.tempDirectory("fulldisk")
        let m = try Subprocess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=600k", "tmpfs", mountPoint])
        try #require(m.status == 0, "mount: \(m.stderr)")
        defer { _ = try? Subprocess.run("/bin/umount", [mountPoint]) }
        let r = try Subprocess.vigil(["analyze", Self.vtest, "--out", mountPoint, "--max-frames", "40", "--patches", "2"])
        #expect(r.status == 73, "\(r.stderr)")
        #expect(r.stderr.contains("No space left on device; free space on that disk or choose another --out"), "\(r.stderr)")
        #expect(!r.stderr.contains("NSCocoaErrorDomain"))
        let left = try FileManager.default.contentsOfDirectory(atPath: mountPoint).filter { !$0.hasSuffix(".lock") }
        #expect(left.isEmpty, "\(left)")
    }
}

extension HardeningEndToEndTests {
    /// A clip with two video streams: the run says which it analysed, --stream picks the other, and a stream that
    /// does not exist is refused in one sentence.
    @Test func twoVideoStreams() throws {
        let dir = Subprocess.tempDirectory("streams")
        let clip = dir + "/two.mkv"
        let ff = try Subprocess.run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x96:rate=25:duration=0.2",
                                                        "-f", "lavfi", "-i", "testsrc=size=128x72:rate=25:duration=0.2", "-map", "0", "-map", "1",
                                                        "-c:v", "libx264", "-preset", "ultrafast", clip])
        #expect(ff.status == 0, "\(ff.stderr)")
        let first = try Subprocess.vigil(["analyze", clip, "--out", dir + "/a", "--patches", "2", "--no-video"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("the clip has 2 video streams; stream 0 was analysed"), "\(first.stderr)")
        let second = try Subprocess.vigil(["analyze", clip, "--out", dir + "/b", "--patches", "2", "--no-video", "--stream", "1"])
        #expect(second.status == 0, "\(second.stderr)")
        let report = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: dir + "/b/two/report.json")))
        #expect(report["provenance"]?["clip"]?["width"]?.double == 128)
        let missing = try Subprocess.vigil(["analyze", clip, "--out", dir + "/c", "--no-video", "--stream", "2"])
        #expect(missing.status == 65)
        #expect(missing.stderr.contains("it has 2 video streams, so --stream 2 does not exist (use 0 to 1)"), "\(missing.stderr)")
    }
}

extension HardeningEndToEndTests {
    /// Network sources get network causes: an unknown host, and an RTSP server that accepts and then says nothing.
    @Test func networkMessages() throws {
        let unknown = try Subprocess.vigil(["analyze", "rtsp://no-such-host.invalid/cam", "--out", Subprocess.tempDirectory("net"), "--timeout", "3"])
        #expect(unknown.status == 65)
        #expect(unknown.stderr.contains("the host name 'no-such-host.invalid' cannot be resolved"), "\(unknown.stderr)")
        let server = try SilentServer()
        defer { server.close() }
        let stalled = try Subprocess.vigil(["analyze", "rtsp://127.0.0.1:\(server.port)/cam", "--out", Subprocess.tempDirectory("net"), "--timeout", "2"])
        #expect(stalled.status == 65)
        #expect(stalled.stderr.contains("nothing that reads as a video stream arrived within 2 s"), "\(stalled.stderr)")
        #expect(!stalled.stderr.contains("re-copy"), "\(stalled.stderr)")
    }
}

extension HardeningEndToEndTests {
    /// An HTTP source that sends part of a clip and then stalls: the frames that came are analysed, the report says
    /// the input is incomplete, and the exit status (74) tells it from success.
    @Test func midStreamStall() throws {
        let dir = Subprocess.tempDirectory("midstall")
        let clip = dir + "/fast.mp4"
        let ff = try Subprocess.run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", FixturePaths.path("Fixtures/video/carphone_pristine.mp4"),
                                                        "-c", "copy", "-movflags", "+faststart", clip])
        #expect(ff.status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: clip))
        let server = try SilentServer()
        defer { server.close() }
        let fd = server.fd
        Thread.detachNewThread {
            let conn = accept(fd, nil, nil)
            guard conn >= 0 else { return }
            var request = [UInt8](repeating: 0, count: 4096)
            _ = read(conn, &request, request.count)
            let head = Data("HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nConnection: keep-alive\r\n\r\n".utf8)
            let part = head + bytes.prefix(bytes.count * 6 / 10)
            _ = part.withUnsafeBytes { write(conn, $0.baseAddress, part.count) }
            sleep(30)  // stall with the connection open
            _ = Glibc.close(conn)
        }
        let r = try Subprocess.vigil(["analyze", "http://127.0.0.1:\(server.port)/fast", "--out", dir + "/out", "--timeout", "2", "--patches", "2",
                                      "--every", "10", "--no-video"])
        #expect(r.status == 74, "\(r.stderr)")
        #expect(r.stderr.contains("incomplete") && r.stderr.contains("stalled"), "\(r.stderr)")
        let report = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: dir + "/out/127.0.0.1_\(server.port)_fast/report.json")))
        #expect(report["input"]?["complete"]?.boolValue == false)
        #expect(Int(report["frameCount"]?.double ?? 0) >= 3)
    }

    /// `--size 32` on a model whose input is fixed at 224: no frame can be analysed, so the run fails (65) rather than
    /// writing an empty report.
    @Test func wrongInputSizeFails() throws {
        let r = try Subprocess.vigil(["analyze", Self.clip, "--size", "32", "--max-frames", "2", "--out", Subprocess.tempDirectory("size"), "--no-video"])
        #expect(r.status == 65, "\(r.stderr)")
        #expect(!r.stderr.contains(": ok"))
    }

    /// An interrupted multi-clip run lists the clips it did not reach in index.json.
    @Test func interruptedIndexListsTheRest() throws {
        let out = Subprocess.tempDirectory("interrupted-index")
        let (p, _, _) = try Subprocess.start(Subprocess.vigil, ["analyze", Self.vtest, Self.clip, "Fixtures/video/bikes.mp4", "--out", out, "--patches", "4"])
        Self.waitForStaging(in: out, clip: "vtest", frames: 2)
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(p.terminationStatus == 130)
        let index = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: out + "/index.json")))
        let entries = index["clips"]?.arrayValue ?? index.arrayValue ?? []
        #expect(entries.count == 3, "\(index)")
        #expect(entries.last?["status"]?.stringValue == "not-analysed", "\(index)")
    }
}
