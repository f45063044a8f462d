import Foundation
import PackagePlugin

/// Records the commit the package is built from: before every build, `git` writes it (and whether
/// tracked files had changes) into a Swift source file of the target, `BuildInfo+Generated.swift`.
///
/// Without git, or outside a checkout (a source tarball), the commit is "unknown" and the build
/// goes on. The file is rewritten only when its text changes, so an unchanged tree recompiles
/// nothing.
@main
struct BuildInfoPlugin: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    let work = context.pluginWorkDirectoryURL
    let output = work.appending(path: "generated")
    // $1 the package directory, $2 the output directory, $3 a scratch file outside it.
    let script = """
      commit=unknown
      dirty=false
      if command -v git >/dev/null 2>&1 && c=$(git -C "$1" rev-parse HEAD 2>/dev/null); then
        commit=$c
        if [ -n "$(GIT_OPTIONAL_LOCKS=0 git -C "$1" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
          dirty=true
        fi
      fi
      mkdir -p "$2" || exit 1
      printf '%s\\n' '// Generated before each build by Plugins/BuildInfo: do not edit.' \
        "let generatedCommit = \\"$commit\\"" "let generatedDirty = $dirty" > "$3" || exit 1
      if cmp -s "$3" "$2/BuildInfo+Generated.swift"; then rm -f "$3"; else mv "$3" "$2/BuildInfo+Generated.swift"; fi
      """
    return [
      .prebuildCommand(
        displayName: "Recording the commit \(target.name) is built from",
        executable: URL(fileURLWithPath: "/bin/sh"),
        arguments: [
          "-c", script, "sh", context.package.directoryURL.path, output.path,
          work.appending(path: "BuildInfo.swift.next").path,
        ],
        outputFilesDirectory: output)
    ]
  }
}
