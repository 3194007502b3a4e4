/// The exit statuses of `vigil`, documented in `--help` and the README.
enum ExitStatus: Int32 {
    /// Everything ran and every verdict passed.
    case success = 0
    /// A verdict failed: `--fail-under` not met, or a `check` case disagreed.
    case failed = 1
    /// The command line was wrong (ArgumentParser's usage error).
    case usage = 64
    /// An input (clip, image or model) could not be read or is unsupported.
    case inputError = 65
    /// The input was incomplete: it ended early (a stalled or dropped source, a read error, a truncated file) or had
    /// damaged packets. The report covers what was decoded (`input.complete` false).
    case incompleteInput = 74
    /// An output could not be written: the output folder is locked by another run, cannot be created, or the disk
    /// filled up (sysexits' EX_CANTCREAT). Earlier results in that folder are left as they were.
    case outputError = 73
    /// Interrupted by SIGINT or SIGTERM; partial outputs were written.
    case interrupted = 130
}
