import Foundation
import Synchronization

// Result files are written with POSIX calls, so that every failure (disk full, file-size limit,
// read-only file system, permission, a file where a directory should be) is an errno that becomes
// one line naming the path, never a trap or a raw Foundation error.

extension ExperimentError {
  /// `PATH: error: cannot OPERATION: REASON (HINT)` for a failed system call with `code` (an errno).
  public static func io(_ operation: String, _ path: String, errno code: Int32) -> ExperimentError {
    let (reason, hint) = describe(errno: code)
    return ExperimentError("\(path): error: cannot \(operation): \(reason) (\(hint))")
  }

  /// A short reason and a hint that says the fix, for an errno.
  static func describe(errno code: Int32) -> (reason: String, hint: String) {
    let kept = "finished runs are kept: run the same command again, with --resume for bdsim run"
    switch code {
    case ENOSPC: return ("no space left on device", "free space there or choose another --out; " + kept)
    case EDQUOT: return ("disk quota exceeded", "free space there or choose another --out; " + kept)
    case EFBIG:
      return ("file too large for the file-size limit", "raise it with ulimit -f unlimited; " + kept)
    case EROFS: return ("read-only file system", "choose an --out on a writable file system")
    case EACCES, EPERM: return ("permission denied", "choose an --out you may write to, or change its permissions")
    case ENOTDIR, EEXIST: return ("is a file, not a directory", "choose another --out, or move that file away")
    case EISDIR: return ("is a directory, not a file", "choose another name, or move that directory away")
    case ENOENT: return ("no such file or directory", "check the path")
    case ENAMETOOLONG: return ("file name too long", "choose a shorter --out")
    case EIO: return ("input/output error", "check the device; " + kept)
    case EMFILE, ENFILE: return ("too many open files", "raise the limit with ulimit -n, then run again")
    default: return (String(cString: strerror(code)).lowercased(), "check the path and the file system; " + kept)
    }
  }

  /// A Foundation file error (CocoaError, POSIXError) as one line, or nil if `error` is not one.
  public static func fromFileError(_ error: any Error) -> ExperimentError? {
    if let posix = error as? POSIXError {
      return .io("access the file", "bdsim", errno: posix.code.rawValue)
    }
    guard let cocoa = error as? CocoaError, cocoa.isFileError else { return nil }
    let path = cocoa.filePath ?? cocoa.url?.path ?? "file"
    let underlying = cocoa.userInfo[NSUnderlyingErrorKey] as? NSError
    var code: Int32 = EIO
    if let underlying, underlying.domain == NSPOSIXErrorDomain {
      code = Int32(truncatingIfNeeded: underlying.code)
    } else {
      switch cocoa.code {
      case .fileWriteOutOfSpace: code = ENOSPC
      case .fileWriteVolumeReadOnly: code = EROFS
      case .fileWriteNoPermission, .fileReadNoPermission: code = EACCES
      case .fileNoSuchFile, .fileReadNoSuchFile: code = ENOENT
      case .fileWriteFileExists: code = EEXIST
      default: break
      }
    }
    let kind = cocoa.code.rawValue
    let operation =
      kind >= CocoaError.fileWriteUnknown.rawValue && kind < 1024
      ? "write" : kind >= CocoaError.fileReadUnknown.rawValue && kind < 512 ? "read" : "access"
    return .io(operation, path, errno: code)
  }
}

/// Creates `path` and its missing parents (`mkdir -p`); several processes may do it at once.
/// A component that exists but is not a directory is named in the error.
public func makeDirectories(_ path: String) throws(ExperimentError) {
  var prefix = path.hasPrefix("/") ? "/" : ""
  for component in path.split(separator: "/") where component != "." {
    prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
    if mkdir(prefix, 0o777) == 0 { continue }
    let code = errno
    var status = stat()
    if stat(prefix, &status) == 0 {
      if status.st_mode & S_IFMT == S_IFDIR { continue }
      throw .io("create directory \(path)", prefix, errno: ENOTDIR)
    }
    throw .io("create directory", prefix, errno: code)
  }
}

/// A file being written under a temporary name beside its final path; `commit` renames it into
/// place, so readers see the old content or the new, never a part. Until then `discard` removes it.
final class PendingFile {
  let path: String
  let temporary: String
  /// Open (>= 0), closed with the temporary file still there (-1), or done with it (-2).
  private var descriptor: Int32

  /// Creates the temporary file (and the directories above it).
  init(for path: String) throws(ExperimentError) {
    let directory = (path as NSString).deletingLastPathComponent
    if !directory.isEmpty { try makeDirectories(directory) }
    self.path = path
    temporary = TemporaryFiles.name(for: path)
    descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
    if descriptor < 0 {
      let code = errno
      descriptor = -2
      throw .io("write", path, errno: code)
    }
  }

  /// Appends `text`; a failure (disk full, file-size limit) names the final path.
  func write(_ text: String) throws(ExperimentError) {
    var text = text
    let code: Int32 = text.withUTF8 { bytes in
      var offset = 0
      while offset < bytes.count {
        let written = writeBytes(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
        if written < 0 {
          if errno == EINTR { continue }
          return errno
        }
        offset += written
      }
      return 0
    }
    if code != 0 { throw .io("write", path, errno: code) }
  }

  /// Closes the file and renames it to its final path.
  func commit() throws(ExperimentError) {
    precondition(descriptor >= 0, "PendingFile committed twice or after discard")
    let fd = descriptor
    descriptor = -1
    if close(fd) != 0 {
      let code = errno
      discard()
      throw .io("write", path, errno: code)
    }
    if rename(temporary, path) != 0 {
      let code = errno
      discard()
      throw .io("write", path, errno: code)
    }
    descriptor = -2
  }

  /// Closes and removes the temporary file (after a failure).
  func discard() {
    guard descriptor != -2 else { return }
    if descriptor >= 0 { close(descriptor) }
    descriptor = -2
    unlink(temporary)
  }

  deinit { discard() }
}

/// write(2), by a name that a method called `write` does not hide.
private func writeBytes(_ fd: Int32, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int { write(fd, bytes, count) }

/// Writes a file so that readers see either the old or the new content, never a part.
public func writeAtomically(_ text: String, to path: String) throws(ExperimentError) {
  // A failed write leaves the temporary file to the PendingFile's deinit, which removes it.
  let file = try PendingFile(for: path)
  try file.write(text)
  try file.commit()
}

/// Names of temporary files, and the removal of those that interrupted processes left behind.
///
/// A temporary file is `FILE.tmp-PID-N@HOST`: the process id, a counter of the process and the
/// host's name. A run, `--resume` or `merge` of a directory removes the temporary files in it
/// (and in its `runs/`) that a process of this host wrote and that process is gone, and those of
/// other hosts (or of BDSim 0.2, without a host) that nobody has written to for `staleAge`, since
/// a process elsewhere cannot be asked whether it lives. A live process's file is never removed
/// (nor one whose pid a new process of this host has taken, until that one ends).
public enum TemporaryFiles {
  /// A writer adds to its temporary file at least every few seconds (a record is written at once,
  /// timeseries.csv one run at a time), so one untouched for an hour belongs to a process that
  /// died; the hour also covers clocks of cluster nodes that disagree by minutes.
  public static let staleAge: Double = 3600

  /// This host's name, in characters that are safe in a file name.
  static let host: String = {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let safe = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") ? $0 : "_" })
    return safe.isEmpty ? "localhost" : safe
  }()

  /// Distinguishes temporary files written by threads of one process.
  private static let counter = Atomic<Int>(0)

  /// A temporary name beside `path`, unique to this process and call.
  static func name(for path: String) -> String {
    "\(path).tmp-\(getpid())-\(counter.wrappingAdd(1, ordering: .relaxed).oldValue)@\(host)"
  }

  /// The writer of a temporary file, from its name; nil if the name is not one of ours. Names
  /// without `@HOST` (BDSim 0.2 and earlier) have no host.
  static func writer(of name: String) -> (pid: Int32, host: String?)? {
    guard let marker = name.range(of: ".tmp-", options: .backwards) else { return nil }
    let tail = name[marker.upperBound...]
    let at = tail.firstIndex(of: "@")
    let numbers = tail[..<(at ?? tail.endIndex)].split(separator: "-", omittingEmptySubsequences: false)
    guard numbers.count == 2, let pid = Int32(numbers[0]), pid > 0, Int(numbers[1]) != nil,
      numbers.allSatisfy({ $0.allSatisfy(\.isASCII) })
    else { return nil }
    return (pid, at.map { String(tail[tail.index(after: $0)...]) })
  }

  /// Whether the process `pid` of this host is gone (a process we may not signal still lives).
  static func isGone(_ pid: Int32) -> Bool { kill(pid, 0) != 0 && errno == ESRCH }

  /// Removes the stale temporary files in `directory`, `directory/runs` and `directory/traces`;
  /// returns their paths.
  @discardableResult
  public static func removeStale(in directory: String, now: Date = Date()) -> [String] {
    var removed: [String] = []
    for folder in [directory, directory + "/runs", directory + "/traces"] {
      guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
      for name in names.sorted() {
        guard let writer = writer(of: name) else { continue }
        let path = folder + "/" + name
        var status = stat()
        guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
        let modified = Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) / 1e9
        let stale =
          writer.host == host
          ? writer.pid != getpid() && isGone(writer.pid)
          : now.timeIntervalSince1970 - modified > staleAge
        if stale && unlink(path) == 0 { removed.append(path) }
      }
    }
    return removed
  }
}
