import Foundation

/// One clip's output folder, written all or nothing.
///
/// A run writes into a hidden staging folder beside the final one (`.NAME.partial-PID`) and renames it into place
/// when the clip's report is complete (a report marked partial is complete too), replacing what an earlier run left.
/// A killed run leaves only its staging folder, which the next run on the same folder removes; the previous complete
/// folder stays as it was. A lock file (`.NAME.lock`, `flock`) keeps a second run from writing the same folder at
/// the same time.
final class OutputFolder {
    /// Where the results end up.
    let final: String
    /// Where this run writes them.
    let staging: String
    private let lock: FolderLock

    /// Takes the folder's lock, removes what killed runs left, and creates the staging folder.
    /// - Throws: `OutputFolderError` saying what to do.
    init(final: String) throws {
        self.final = final
        let fm = FileManager.default
        let parent = (final as NSString).deletingLastPathComponent, name = (final as NSString).lastPathComponent
        lock = try FolderLock(final: final)
        // Holding the lock, every staging or replaced folder of this name belongs to a run that is gone.
        for entry in (try? fm.contentsOfDirectory(atPath: parent.isEmpty ? "." : parent)) ?? []
        where entry.hasPrefix(".\(name).partial-") || entry.hasPrefix(".\(name).replaced-") {
            try? fm.removeItem(atPath: (parent as NSString).appendingPathComponent(entry))
        }
        staging = (parent as NSString).appendingPathComponent(".\(name).partial-\(getpid())")
        if mkdir(staging, 0o755) != 0 {
            throw OutputFolderError.cannotCreate(path: staging, reason: String(cString: strerror(errno)))
        }
    }

    /// Puts the staging folder in place of the final one (the old one is removed after the swap).
    /// - Throws: `OutputFolderError.cannotCreate` when the rename fails; the staging folder is then left as it is.
    func commit() throws {
        let fm = FileManager.default
        let parent = (final as NSString).deletingLastPathComponent, name = (final as NSString).lastPathComponent
        var replaced: String? = nil
        if fm.fileExists(atPath: final) {
            let old = (parent as NSString).appendingPathComponent(".\(name).replaced-\(getpid())")
            guard rename(final, old) == 0 else { throw OutputFolderError.cannotCreate(path: final, reason: String(cString: strerror(errno))) }
            replaced = old
        }
        guard rename(staging, final) == 0 else {
            let reason = String(cString: strerror(errno))
            if let replaced { _ = rename(replaced, final) }
            throw OutputFolderError.cannotCreate(path: final, reason: reason)
        }
        if let replaced { try? fm.removeItem(atPath: replaced) }
    }

    /// Removes the staging folder (the final folder, if any, is untouched).
    func discard() { try? FileManager.default.removeItem(atPath: staging) }

    /// `mkdir -p`: nil on success, else the system's reason for the first folder that could not be made.
    static func makeDirectories(_ path: String) -> String? {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            return isDir.boolValue ? nil : "'\(path)' is a file, not a folder"
        }
        // Not NSString.deletingLastPathComponent: this Foundation traps on a one-character path such as "R".
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        let parent = trimmed.lastIndex(of: "/").map { String(trimmed[..<$0]) } ?? ""
        if !parent.isEmpty && parent != path, let r = makeDirectories(parent) { return r }
        if mkdir(path, 0o755) != 0 && errno != EEXIST { return String(cString: strerror(errno)) }
        return nil
    }
}

/// The lock (`.NAME.lock` beside the folder, `flock`) that keeps two runs from writing one output folder at once;
/// held until the value is released. Creates the folder's parents.
final class FolderLock {
    private let fd: Int32

    /// - Throws: `OutputFolderError.busy` when another run holds it, `.cannotCreate` when it cannot be made.
    init(final: String) throws {
        let parent = (final as NSString).deletingLastPathComponent, name = (final as NSString).lastPathComponent
        if let reason = OutputFolder.makeDirectories(parent.isEmpty ? "." : parent) { throw OutputFolderError.cannotCreate(path: parent, reason: reason) }
        let lockPath = (parent as NSString).appendingPathComponent(".\(name).lock")
        fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OutputFolderError.cannotCreate(path: lockPath, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw OutputFolderError.busy(path: final)
        }
    }

    deinit { flock(fd, LOCK_UN); close(fd) }
}

/// Why an output folder cannot be written.
public enum OutputFolderError: Error, CustomStringConvertible, Sendable {
    case cannotCreate(path: String, reason: String)
    case busy(path: String)

    public var description: String {
        switch self {
        case let .cannotCreate(path, reason): return "cannot write the output folder \(path): \(reason); choose another --out, or free space or fix permissions there"
        case let .busy(path): return "another vigil run is writing \(path); wait for it to finish or choose another --out"
        }
    }
}
