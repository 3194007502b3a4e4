import ArgumentParser

/// The `vigil` command: audits how robust an image classifier is on real video.
@main
struct Vigil: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Audit how robust an image classifier is on real video.",
        version: "0.1.0",
        subcommands: [Analyze.self, Compare.self, Merge.self, Classify.self, Inspect.self, Probe.self, Check.self],
        defaultSubcommand: nil
    )
}
