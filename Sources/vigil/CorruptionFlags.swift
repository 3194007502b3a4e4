import Foundation
import ArgumentParser
import Imaging
import MediaIO

/// `--corruptions` and `--severity`, shared by analyze and compare.
enum CorruptionFlags {
    /// `--corruptions`' help: every corruption's name, from the one list of them.
    static let listHelp = ArgumentHelp(
        "Camera-condition corruptions to apply to each analysed frame: all, or a comma list of "
            + Corruption.allCases.map(\.name).joined(separator: ", ") + " (h264_compression: libx264 through FFmpeg).",
        valueName: "list")

    /// The corruptions (none without `--corruptions`) and the severities.
    static func parse(_ list: String?, severity: String) throws -> ([Corruption], [Int]) {
        var severities: [Int]
        let s = severity.trimmingCharacters(in: .whitespaces).lowercased()
        if s == "all" { severities = Array(1...5) }
        else if let dash = s.firstIndex(of: "-"), let a = Int(s[..<dash]), let b = Int(s[s.index(after: dash)...]), a <= b { severities = Array(a...b) }
        else { severities = s.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        guard !severities.isEmpty, severities.allSatisfy({ (1...5).contains($0) }) else {
            throw ValidationError("--severity takes severities from 1 (mild) to 5 (strong): one (3), a range (1-5), a list (1,3,5) or all; got '\(severity)'.")
        }
        guard let list else { return ([], Array(Set(severities)).sorted()) }
        if list.trimmingCharacters(in: .whitespaces).lowercased() == "all" {
            try checkCodec(Corruption.allCases)
            return (Corruption.allCases, Array(Set(severities)).sorted())
        }
        var out: [Corruption] = []
        for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            do { out.append(try Corruption(named: name)) } catch { throw ValidationError("--corruptions: \(error)") }
        }
        guard !out.isEmpty else { throw ValidationError("--corruptions takes all or a comma list of corruption names, got '\(list)'.") }
        try checkCodec(out)
        return (out, Array(Set(severities)).sorted())
    }

    /// Fails before any work when a corruption needs a codec this FFmpeg lacks (libx264 for h264_compression).
    static func checkCodec(_ list: [Corruption]) throws {
        if list.contains(where: \.needsCodec) && !H264RoundTrip.isAvailable {
            throw ValidationError("--corruptions: h264_compression needs libx264 and the h264 decoder, which this FFmpeg lacks; install an FFmpeg built with libx264 or leave h264_compression out of the list.")
        }
    }
}
