import SimKernel
import Testing

@testable import SimPHOLD

@Suite struct PHOLDTests {
  func parameters(endTime: Double = 50, remote: Double = 0.5) -> PHOLDParameters {
    var p = PHOLDParameters()
    p.lps = 64
    p.eventsPerLP = 8
    p.endTime = endTime
    p.remote = remote
    return p
  }

  @Test func thePendingPopulationIsConstantAndCountsAreDeterministic() throws {
    let run = try PHOLD.prepare(parameters(), streams: RandomStreams(experimentSeed: 1))
    run.execute()
    let again = try PHOLD.prepare(parameters(), streams: RandomStreams(experimentSeed: 1))
    again.execute()
    #expect(run.simulator.pendingEvents == 64 * 8)
    #expect(run.metrics == again.metrics)
    #expect(run.model.handledPerLP == again.model.handledPerLP)
    #expect(run.model.handledPerLP.reduce(0, +) == Int(run.simulator.eventsProcessed))
    let other = try PHOLD.prepare(parameters(), streams: RandomStreams(experimentSeed: 2))
    other.execute()
    #expect(other.metrics != run.metrics)
  }

  @Test func theEventCountMatchesTheRenewalRate() throws {
    // Each of the lps x eventsPerLP chains handles about endTime / (lookahead + mean) events.
    let p = parameters(endTime: 500)
    let run = try PHOLD.prepare(p, streams: RandomStreams(experimentSeed: 4))
    run.execute()
    let expected = Double(p.lps * p.eventsPerLP) * p.endTime / (p.lookahead + p.mean)
    #expect(abs(Double(run.simulator.eventsProcessed) / expected - 1) < 0.01)
    // Half the events draw a remote destination, of which 63/64 are another LP.
    let remoteShare = run.metrics["remote_sends"]! / Double(run.simulator.eventsProcessed)
    #expect(abs(remoteShare - 0.5 * 63 / 64) < 0.01)
  }

  @Test func withoutRemoteEventsEveryLPKeepsItsOwnEvents() throws {
    let run = try PHOLD.prepare(parameters(remote: 0), streams: RandomStreams(experimentSeed: 1))
    run.execute()
    #expect(run.model.remoteSends == 0)
    #expect(run.model.handledPerLP.allSatisfy { $0 > 0 })
  }

  @Test func badParametersAreErrors() {
    var p = parameters()
    p.lps = 0
    #expect(throws: ValueError.self) { _ = try PHOLD.prepare(p, streams: RandomStreams(experimentSeed: 1)) }
    p = parameters(remote: 1.5)
    #expect(throws: ValueError.self) { _ = try PHOLD.prepare(p, streams: RandomStreams(experimentSeed: 1)) }
    p = parameters(endTime: -1)
    #expect(throws: ValueError.self) { _ = try PHOLD.prepare(p, streams: RandomStreams(experimentSeed: 1)) }
    p = parameters()
    p.mean = 0
    #expect(throws: ValueError.self) { _ = try PHOLD.prepare(p, streams: RandomStreams(experimentSeed: 1)) }
  }
}
