import SimKernel

/// One run's activity trace (`outputs.trace`), written as the run makes it: lines are buffered
/// and handed to a temporary file every 256 KiB, so memory stays flat however long the run, and
/// the file takes its final name (`DIR/traces/run-NNNNNN.csv`) only when the run has ended.
final class TraceFile: TraceSink, @unchecked Sendable {
  // Used by the one thread running its run (the runner makes one per run).
  let path: String
  private var file: PendingFile
  private var buffer = ""
  private var failure: ExperimentError?
  static let flushSize = 256 * 1024

  init(path: String) throws(ExperimentError) {
    self.path = path
    file = try PendingFile(for: path)
  }

  func write(_ line: String) {
    buffer += line
    if buffer.utf8.count >= Self.flushSize { flush() }
  }

  private func flush() {
    guard failure == nil else {
      buffer = ""
      return
    }
    do { try file.write(buffer) } catch { failure = error }
    buffer = ""
  }

  /// Forgets what was written (a run made again, as `warmup: auto` does).
  func restart() throws(ExperimentError) {
    file.discard()
    buffer = ""
    failure = nil
    file = try PendingFile(for: path)
  }

  /// Writes the rest and gives the file its name; the first write error, if any, is thrown here.
  func commit() throws(ExperimentError) {
    flush()
    if let failure {
      file.discard()
      throw failure
    }
    try file.commit()
  }
}
