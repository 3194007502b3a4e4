import Foundation
import ArgumentParser
import Imaging

/// `--corruptions` and `--severity`, shared by analyze and compare.
enum CorruptionFlags {
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
        if list.trimmingCharacters(in: .whitespaces).lowercased() == "all" { return (Corruption.allCases, Array(Set(severities)).sorted()) }
        var out: [Corruption] = []
        for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            do { out.append(try Corruption(named: name)) } catch { throw ValidationError("--corruptions: \(error)") }
        }
        guard !out.isEmpty else { throw ValidationError("--corruptions takes all or a comma list of corruption names, got '\(list)'.") }
        return (out, Array(Set(severities)).sorted())
    }
}
