/// What this build of BDSim was made from, compiled in: the commit is read by `git` at build time
/// (Plugins/BuildInfo, again whenever git's HEAD, reflog or index or a source file changes), so it
/// is the source's, not that of the directory bdsim runs in.
public enum BuildInfo {
  /// The full commit hash, or "unknown" when built without git or outside a git checkout.
  public static let commit: String = generatedCommit

  /// Whether tracked files differed from that commit when it was built.
  public static let dirty: Bool = generatedDirty

  /// `COMMIT`, `COMMIT-dirty` or `unknown`.
  public static var described: String { commit == "unknown" ? commit : commit + (dirty ? "-dirty" : "") }
}
