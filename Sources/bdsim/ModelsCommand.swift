import ArgumentParser

struct ModelsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "models", abstract: "List the models BDSim can run.")

  func run() {
    print(
      "queueing  open queueing networks: sources, M/G/c stations with optional capacity, routing (docs/models/queueing.md)"
    )
    print("phold     the PHOLD discrete-event benchmark (docs/models/phold.md)")
  }
}
