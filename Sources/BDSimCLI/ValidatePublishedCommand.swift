import ArgumentParser
import Foundation
import SimExperiments
import SimKernel

struct ValidatePublishedCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "validate-published",
    abstract: "Run the experiments of experiments/validation/ and judge them against published measurements.",
    discussion:
      "Each experiment runs as 'bdsim run FILE --resume' runs it (committed results are reused), then each check "
      + "of its published: section is judged. Exit status 0 when every prediction passes, 1 when one fails. "
      + "See docs/VALIDATION.md.")

  @Argument(help: "Experiment configs, or directories of them (default: experiments/validation).") var paths: [String] =
    []
  @Option(help: "Worker threads (default: all cores).") var jobs: Int?
  @Option(help: "Also write the table as CSV to this file.") var csv: String?
  @Option(help: "Rewrite the table between the validation-table markers of this Markdown file.") var markdown: String?

  func run() throws {
    let jobs = try checkJobs(self.jobs)
    let files = try PublishedValidation.configFiles(paths)
    // Every config is checked before anything runs: a mistake in the last one costs no runs.
    for file in files { _ = try PublishedValidation.plan(file: file, models: Models.registered) }
    if let markdown, FileManager.default.contents(atPath: markdown) == nil {
      throw ExperimentError("\(markdown): cannot read the Markdown file to put the table in")
    }
    let again = CommandLine.arguments.map(shellQuote).joined(separator: " ")
    Runner.installInterruptHandler(
      first: "\ninterrupted: finishing the runs in progress, starting no more (completed runs are kept, and reused"
        + " by the same command). Press Ctrl-C again to stop them now. To finish later, run:\n  \(again)\n",
      second: "\nstopped: the runs in progress are abandoned; completed runs are kept. To finish, run:\n  \(again)\n")
    var rows: [PublishedValidation.Row] = []
    for file in files {
      let outcome = try PublishedValidation.run(
        file: file, jobs: jobs, models: Models.registered, progress: Progress(terminal: isatty(2) == 1),
        announce: { writeStandardError($0 + "\n") })
      if outcome.interrupted {
        writeStandardError(
          "interrupted in \(file): nothing already written was damaged; run the same command again to finish\n")
        throw ExitCode(130)
      }
      rows += outcome.rows
    }
    print(TextTable.render(header: PublishedValidation.header, rows: rows.map(PublishedValidation.cells)))
    print(PublishedValidation.countLine(rows))
    if let csv {
      try writeAtomically(PublishedValidation.csv(rows), to: csv)
      print("wrote \(csv)")
    }
    if let markdown {
      let document = String(decoding: FileManager.default.contents(atPath: markdown) ?? Data(), as: UTF8.self)
      let text = try PublishedValidation.replacingTable(
        in: document, with: PublishedValidation.markdown(rows), file: markdown)
      try writeAtomically(text, to: markdown)
      print("wrote the table into \(markdown)")
    }
    if rows.contains(where: { $0.verdict == .fail }) { throw ExitCode(1) }
  }
}
