import SimKernel
import Testing

@testable import SimPlatform

/// Collects the lines of a trace.
final class TraceLines: TraceSink, @unchecked Sendable {
  var lines: [String] = []
  func write(_ line: String) { lines.append(line) }
}

/// `outputs.trace` at the fluid model: one row per activity, when it ends, with hand-computed
/// times and units served.
@Suite struct ActivityTraceTests {
  /// Two flows share a link of 10/s (5 each); a flow alone on a link of 8/s is cancelled at
  /// 0.5 s; a disk operation at 5/s fails with its disk at 1 s, and one started on the dead
  /// disk is refused; a computation capped at 1/s is still running at the end (4 s); a
  /// transfer refused before it had a route and a control message of 0.25 s come at 2.5 s.
  func scenario(_ request: (TraceLines) -> ActivityTraceRequest) -> [String] {
    let sim = Simulator()
    let fluid = FluidModel(simulator: sim)
    let a = fluid.addResource(name: "a", capacity: 10, kind: .hostLink)
    let e = fluid.addResource(name: "e", capacity: 8, kind: .uplink)
    let d = fluid.addResource(name: "d", capacity: 5, kind: .disk)
    let c = fluid.addResource(name: "c", capacity: 2, kind: .cpu)
    let lines = TraceLines()
    fluid.startTracing(request(lines)) { "host\($0)" }
    let recorder = Recorder()
    fluid.start(amount: 20, on: [a], observer: recorder, tag: 1, endpoints: (0, 1))
    fluid.start(amount: 10, on: [a], observer: recorder, tag: 2, endpoints: (1, 0))
    let v = fluid.start(amount: 100, on: [e], observer: recorder, tag: 3)
    fluid.start(amount: 100, on: [d], observer: recorder, tag: 4, endpoints: (2, 2))
    fluid.start(amount: 100, on: [c], maxRate: 1, observer: recorder, tag: 5)
    sim.run(until: .milliseconds(500))
    fluid.cancel(v)
    sim.run(until: .seconds(1))
    fluid.setUp(d, false, reason: .diskFailed)
    sim.run(until: .milliseconds(1500))
    fluid.start(amount: 10, on: [d], observer: recorder, tag: 6)
    sim.run(until: .milliseconds(2500))
    fluid.startFailed(observer: recorder, tag: 7, reason: .partitioned, amount: 7, endpoints: (0, 3))
    fluid.start(amount: 0, on: [], latency: .milliseconds(250), observer: recorder, tag: 8, endpoints: (3, 0))
    sim.run(until: .seconds(4))
    fluid.traceRunning()
    #expect(recorder.finished[1] == .seconds(3) && recorder.finished[2] == .seconds(2))
    #expect(
      recorder.failed[4] == .diskFailed && recorder.failed[6] == .diskFailed && recorder.failed[7] == .partitioned)
    return lines.lines
  }

  @Test func everyActivityIsOneRowWhenItEnds() {
    let lines = scenario { ActivityTraceRequest(kinds: Set(ActivityTraceRequest.allKinds), sink: $0) }
    #expect(
      lines == [
        "activity,kind,by,start_s,end_s,latency_s,amount,served,src,dst,route,outcome\n",
        // 4 of 100 at 8/s by 0.5 s.
        "3,network,Recorder,0,0.5,0,100,4,,,e,cancelled\n",
        // 5 of 100 at 5/s by 1 s.
        "4,disk,Recorder,0,1,0,100,5,host2,host2,d,disk_failed\n",
        "6,disk,Recorder,1.5,1.5,0,10,0,,,d,disk_failed\n",
        // y: 10 at 5/s = 2 s.
        "2,network,Recorder,0,2,0,10,10,host1,host0,a,finished\n",
        "7,,Recorder,2.5,2.5,0,7,0,host0,host3,,partitioned\n",
        "8,message,Recorder,2.5,2.5,0.25,0,0,host3,host0,,finished\n",
        // x: 10 left at 2 s, alone at 10/s: 3 s.
        "1,network,Recorder,0,3,0,20,20,host0,host1,a,finished\n",
        // 4 of 100 at 1/s by the end.
        "5,cpu,Recorder,0,4,0,100,4,,,c,running\n",
      ])
  }

  /// Kinds and a window select rows; a refusal without a route is always kept.
  @Test func kindsAndAWindowSelectRows() {
    let lines = scenario {
      ActivityTraceRequest(kinds: ["disk"], from: .milliseconds(1200), until: .seconds(10), sink: $0)
    }
    #expect(
      lines == [
        "activity,kind,by,start_s,end_s,latency_s,amount,served,src,dst,route,outcome\n",
        "6,disk,Recorder,1.5,1.5,0,10,0,,,d,disk_failed\n",
        "7,,Recorder,2.5,2.5,0,7,0,host0,host3,,partitioned\n",
      ])
    // Activities that started after `until` are left out: nothing starts after 2.5 s.
    let early = scenario {
      ActivityTraceRequest(kinds: ["network", "cpu"], from: .zero, until: .milliseconds(100), sink: $0)
    }
    #expect(early.count == 1 + 4 && early.allSatisfy { !$0.hasPrefix("7,") && !$0.hasPrefix("8,") })
  }

  @Test func timesAndNumbersAreWrittenExactly() {
    #expect(FluidModel.traceSeconds(.nanoseconds(1_500_000_000)) == "1.5")
    #expect(FluidModel.traceSeconds(.nanoseconds(1_000)) == "0.000001")
    #expect(FluidModel.traceSeconds(.nanoseconds(107_374_183)) == "0.107374183")
    #expect(FluidModel.traceSeconds(.seconds(3600)) == "3600")
    #expect(FluidModel.traceNumber(67_108_864) == "67108864" && FluidModel.traceNumber(2.5) == "2.5")
    #expect(csvField("a,b") == "\"a,b\"" && csvField("say \"hi\"") == "\"say \"\"hi\"\"\"" && csvField("a b") == "a b")
  }
}
