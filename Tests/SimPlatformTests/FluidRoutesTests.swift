import SimKernel
import Testing

@testable import SimPlatform

/// The fluid model's flat route storage: paths that grow while activities run, slots reused with
/// longer paths, swap-removal from the middle of a resource's list.
@Suite struct FluidRoutesTests {
  @Test func aLongerPathWidensTheRoutesOfRunningActivities() {
    let sim = Simulator()
    let fluid = FluidModel(simulator: sim)
    let a = fluid.addResource(name: "a", capacity: 10, kind: .hostLink)
    let b = fluid.addResource(name: "b", capacity: 4, kind: .hostLink)
    let c = fluid.addResource(name: "c", capacity: 100, kind: .uplink)
    let recorder = Recorder()
    // x on a alone (routes of 1 entry per slot), then y on all three (widened to 3), then z on b.
    let x = fluid.start(amount: 20, on: [a], observer: recorder, tag: 1)
    let y = fluid.start(amount: 8, on: [a, b, c], observer: recorder, tag: 2)
    let z = fluid.start(amount: 4, on: [b], observer: recorder, tag: 3)
    #expect(fluid.routeStride == 3)
    // b is the bottleneck (4 for y and z: 2 each); a gives x what y leaves: 8.
    sim.run(until: .seconds(1))
    #expect(fluid.rate(of: x) == 8 && fluid.rate(of: y) == 2 && fluid.rate(of: z) == 2)
    #expect(fluid.allocated(on: a) == 10 && fluid.allocated(on: b) == 4 && fluid.allocated(on: c) == 2)
    // z: 4 at 2 = 2 s. Then y has 4 left alone on b (4/s), x 4 left at 10 - 4 = 6/s.
    sim.run(until: .milliseconds(2500))
    #expect(fluid.rate(of: x) == 6 && fluid.rate(of: y) == 4 && !fluid.isCurrent(z))
    sim.run()
    #expect(recorder.finished[3] == .seconds(2))
    // x: 4 / 6 s = 666,666,666.7 ns, rounded up to the nanosecond.
    #expect(recorder.finished[1] == .nanoseconds(2_666_666_667))
    // y: 4 / 4 = 1 s; its rate does not change when x ends, so its completion stands.
    #expect(recorder.finished[2] == .seconds(3))
    #expect(fluid.carried(by: a) == 28 && fluid.carried(by: b) == 12 && fluid.carried(by: c) == 8)

    // The slots are reused: a three-resource path in a slot that held one, beside a capped one.
    let w = fluid.start(amount: 1000, on: [c, a, b], observer: recorder, tag: 4)
    let v = fluid.start(amount: 1000, on: [c], maxRate: 30, observer: recorder, tag: 5)
    sim.run(until: .seconds(4))
    #expect(fluid.rate(of: w) == 4 && fluid.rate(of: v) == 30)
    #expect(fluid.allocated(on: c) == 34)
    fluid.cancel(w)
    sim.run(until: .seconds(5))
    #expect(fluid.rate(of: v) == 30 && fluid.allocated(on: c) == 30)
    #expect(fluid.allocated(on: a) == 0 && fluid.allocated(on: b) == 0)
  }

  @Test func removingFromTheMiddleOfAResourceKeepsTheOthersPositions() {
    let sim = Simulator()
    let fluid = FluidModel(simulator: sim)
    let shared = fluid.addResource(name: "shared", capacity: 12, kind: .uplink)
    let own = (0..<4).map { fluid.addResource(name: "own\($0)", capacity: 100, kind: .hostLink) }
    let recorder = Recorder()
    // Each on its own resource then the shared one: `shared` lists p0 p1 p2 p3.
    let p = (0..<4).map { fluid.start(amount: 1e6, on: [own[$0], shared], observer: recorder, tag: Int64($0)) }
    sim.run(until: .seconds(1))
    #expect(p.allSatisfy { fluid.rate(of: $0) == 3 })
    // Cancelling p0 moves p3 into its place on `shared`; cancelling p3 then must find it there.
    fluid.cancel(p[0])
    fluid.cancel(p[3])
    sim.run(until: .seconds(2))
    #expect(fluid.rate(of: p[1]) == 6 && fluid.rate(of: p[2]) == 6)
    #expect(fluid.allocated(on: shared) == 12)
    #expect(fluid.allocated(on: own[0]) == 0 && fluid.allocated(on: own[3]) == 0 && fluid.allocated(on: own[1]) == 6)
    fluid.cancel(p[1])
    sim.run(until: .seconds(3))
    #expect(fluid.rate(of: p[2]) == 12 && fluid.allocated(on: shared) == 12)
  }

  @Test func whatASolveReadsFitsInOneCacheLine() {
    typealias A = FluidModel.Activity
    // Each field a solve reads ends within the first 64 bytes.
    func end<T>(_ field: KeyPath<A, T>) -> Int { MemoryLayout<A>.offset(of: field)! + MemoryLayout<T>.size }
    let ends = [
      end(\A.remaining), end(\A.rate), end(\A.maxRate), end(\A.lastUpdate), end(\A.expected),
      end(\A.completion), end(\A.pathLength),
    ]
    #expect(ends.allSatisfy { $0 <= 64 }, "\(ends)")
  }
}
