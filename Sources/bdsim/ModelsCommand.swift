import ArgumentParser
import SimExperiments
import SimKernel
import SimModels

struct ModelsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "models", abstract: "List the models, or describe one: its parameters, defaults, units and metrics.")

  @Argument(help: "A model name.") var name: String?

  func run() throws {
    guard let name else {
      for model in ModelRegistry.all {
        print(model.name.padding(toLength: 12, withPad: " ", startingAt: 0) + model.summary)
      }
      print("\nbdsim models NAME describes one; docs/models/NAME.md explains what it models and leaves out.")
      return
    }
    guard let model = ModelRegistry.named(name) else {
      var hint = "models are: \(ModelRegistry.names.joined(separator: ", "))"
      if let near = closestMatch(to: name, among: ModelRegistry.names) { hint = "did you mean '\(near)'? " + hint }
      throw ExperimentError("unknown model '\(name)' (\(hint))")
    }
    print("\(model.name): \(model.summary)\n\nParameters (under params:)")
    let rows = model.parameterSchema().map { [$0.key, $0.kind, $0.defaultValue ?? "(required)", $0.help] }
    print(TextTable.render(header: ["key", "kind", "default", "meaning"], rows: rows))
    print("\nMetrics")
    print(
      TextTable.render(header: ["metric", "meaning"], rows: model.metricDescriptions.map { [$0.name, $0.meaning] }))
    print("\nMore: docs/models/\(model.name).md")
  }
}
