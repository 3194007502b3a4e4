import Foundation

/// The result of running a command.
public struct RunResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs programs for end-to-end tests.
public enum Subprocess {
    /// The built `vigil` binary (debug build of this package, or `VIGIL_BINARY`).
    public static var vigil: String {
        if let p = ProcessInfo.processInfo.environment["VIGIL_BINARY"] { return p }
        for config in ["debug", "release"] {
            let p = FixturePaths.path(".build/\(config)/vigil")
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return FixturePaths.path(".build/debug/vigil")
    }

    /// Starts a program; the caller waits.
    public static func start(_ exe: String, _ args: [String]) throws -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: FixturePaths.root)
        let o = Pipe(), e = Pipe()
        p.standardOutput = o; p.standardError = e
        try p.run()
        return (p, o, e)
    }

    /// Runs a program to completion.
    @discardableResult
    public static func run(_ exe: String, _ args: [String]) throws -> RunResult {
        let (p, o, e) = try start(exe, args)
        // Read both pipes concurrently so neither fills up.
        nonisolated(unsafe) var errData = Data()
        let t = Thread { errData = e.fileHandleForReading.readDataToEndOfFile() }
        t.start()
        let outData = o.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !t.isFinished { usleep(1000) }
        return RunResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs `vigil` with arguments.
    @discardableResult
    public static func vigil(_ args: [String]) throws -> RunResult { try run(vigil, args) }

    /// ffprobe's value of `entries` for the first video stream (e.g. "stream=nb_read_frames,codec_name").
    public static func ffprobe(_ file: String, _ entries: String, countFrames: Bool = false) throws -> [String: String] {
        var args = ["-v", "error", "-select_streams", "v:0", "-show_entries", entries, "-of", "default=noprint_wrappers=1"]
        if countFrames { args.insert("-count_frames", at: 0) }
        let r = try run("/usr/bin/ffprobe", args + [file])
        var d: [String: String] = [:]
        for line in r.stdout.split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { d[String(kv[0])] = String(kv[1]) }
        }
        return d
    }

    /// A fresh temporary folder.
    public static func tempDirectory(_ name: String) -> String {
        let p = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-e2e-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }
}
