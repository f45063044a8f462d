import SimKernel

extension Platform {
  /// Takes a host down (its cores, disks and link) or, when every cause has cleared, back up.
  /// Causes are counted, so a scheduled crash overlapping a random one recovers only when both end.
  ///
  /// Inside this call, when the host's state changes: its activities fail (`host_down`), then
  /// every ``PlatformObserver`` hears ``PlatformObserver/hostChanged(_:up:in:)``, in the order
  /// they were added. ``FaultInjector`` calls it for the config's faults; a model may call it too.
  public func setHost(_ host: HostID, down: Bool) {
    let i = Int(host.index)
    downCauses[i] += down ? 1 : -1
    let nowDown = downCauses[i] > 0
    guard nowDown == hosts[i].up else { return }
    let now = simulator.now
    hosts[i].up = !nowDown
    hostDown[i].update(nowDown ? 1 : 0, at: now)
    let h = hosts[i]
    var resources = [h.cpu] + h.links
    for d in h.diskRead.indices where !h.diskFailed[d] { resources += [h.diskRead[d], h.diskWrite[d]] }
    for r in resources where !linkDownCauses.keys.contains(r.index) || !nowDown {
      fluid.setUp(r, !nowDown, reason: .hostDown)
    }
    downHosts += nowDown ? 1 : -1
    faultLog.append(time: now, metric: "faults.hosts_down", value: Double(downHosts))
    for observer in observers { observer.hostChanged(host, up: !nowDown, in: simulator) }
  }

  /// A disk fails for good: what it held is lost.
  public func failDisk(_ host: HostID, disk: Int) {
    let i = Int(host.index)
    guard !hosts[i].diskFailed[disk] else { return }
    hosts[i].diskFailed[disk] = true
    fluid.setUp(hosts[i].diskRead[disk], false, reason: .diskFailed)
    fluid.setUp(hosts[i].diskWrite[disk], false, reason: .diskFailed)
    failedDisks += 1
    faultLog.append(time: simulator.now, metric: "faults.disks_failed", value: Double(failedDisks))
    for observer in observers { observer.diskFailed(host, disk: disk, in: simulator) }
  }

  /// Slows a disk to `read` and/or `write` bytes per second (nil: that side keeps its rate) until
  /// ``restoreDisk(_:)``: a gray failure such as a drive retrying correctable read errors (Dean and
  /// Ghemawat 2004 report 30 MB/s falling to 1 MB/s) or a co-tenant's I/O. The disk keeps its
  /// data and keeps serving, only slower; activities on it are re-shared at once. Where
  /// degradations of one disk overlap, the slowest holds. Returns the id for ``restoreDisk(_:)``.
  @discardableResult
  public func degradeDisk(_ host: HostID, disk: Int, read: Double?, write: Double?) -> Int {
    let id = nextDegradation
    nextDegradation += 1
    degradations.append((id, host.index, disk, read, write))
    applyDiskRates(host, disk: disk)
    return id
  }

  /// Ends a degradation: its disk returns to the slowest rate still in force, or its own.
  public func restoreDisk(_ id: Int) {
    guard let i = degradations.firstIndex(where: { $0.id == id }) else { return }
    let d = degradations.remove(at: i)
    applyDiskRates(HostID(d.host), disk: d.disk)
  }

  func applyDiskRates(_ host: HostID, disk: Int) {
    let h = hosts[Int(host.index)]
    let active = degradations.filter { $0.host == host.index && $0.disk == disk }
    for (resource, rates) in [
      (h.diskRead[disk], active.compactMap(\.read)), (h.diskWrite[disk], active.compactMap(\.write)),
    ] {
      fluid.setCapacity(resource, min(fluid.nominalCapacity(of: resource), rates.min() ?? .infinity))
    }
    let degraded = Set(degradations.map { Int64($0.host) << 8 | Int64($0.disk) }).count
    faultLog.append(time: simulator.now, metric: "faults.disks_degraded", value: Double(degraded))
  }

  /// Whether a disk has failed.
  public func diskFailed(_ host: HostID, disk: Int) -> Bool { hosts[Int(host.index)].diskFailed[disk] }

  /// Takes a link (both directions) down or back up.
  public func setLink(_ link: FaultSpec.LinkName, down: Bool) {
    let resources: [ResourceID]
    switch link {
    case .uplink(let rack):
      resources = rackUp[rack] == rackDown[rack] ? [rackUp[rack]] : [rackUp[rack], rackDown[rack]]
    case .hostLink(let host): resources = hosts[Int(host)].links
    case .named(let index):
      let pair = linkResources[index]
      resources = pair.forward == pair.backward ? [pair.forward] : [pair.forward, pair.backward]
    }
    for r in resources {
      linkDownCauses[r.index, default: 0] += down ? 1 : -1
      if linkDownCauses[r.index]! <= 0 { linkDownCauses.removeValue(forKey: r.index) }
      let shouldBeUp = linkDownCauses[r.index] == nil && hostOwningLinkIsUp(r)
      fluid.setUp(r, shouldBeUp, reason: .linkDown)
    }
    linksDown += down ? 1 : -1
    faultLog.append(time: simulator.now, metric: "faults.links_down", value: Double(linksDown))
    for observer in observers { observer.reachabilityChanged(in: simulator) }
  }

  func hostOwningLinkIsUp(_ r: ResourceID) -> Bool {
    // A link between a host and a switch is down with its host (explicit links may join two hosts).
    for h in hosts where h.links.contains(r) && !h.up { return false }
    return true
  }

  /// Separates groups of hosts: transfers between different groups fail, now and until healed.
  /// Returns the partition's id, for ``heal(_:)``.
  @discardableResult
  public func partition(_ groups: [[Int32]]) -> Int {
    let id = nextPartition
    nextPartition += 1
    for i in groups.indices {
      for j in groups.indices where j > i {
        partitions.append((id, Set(groups[i]), Set(groups[j])))
      }
    }
    fluid.failActivities(reason: .partitioned) { endpoints in self.separated(endpoints.0, endpoints.1) }
    activePartitions += 1
    partitioned.update(1, at: simulator.now)
    faultLog.append(time: simulator.now, metric: "faults.partitions", value: Double(activePartitions))
    for observer in observers { observer.reachabilityChanged(in: simulator) }
    return id
  }

  /// Heals a partition.
  public func heal(_ id: Int) {
    partitions.removeAll { $0.id == id }
    activePartitions -= 1
    partitioned.update(activePartitions > 0 ? 1 : 0, at: simulator.now)
    faultLog.append(time: simulator.now, metric: "faults.partitions", value: Double(activePartitions))
    for observer in observers { observer.reachabilityChanged(in: simulator) }
  }
}

/// Plays a list of ``FaultSpec`` on a platform: scheduled faults at their times, random ones as
/// alternating up and down periods drawn from each host's own streams (`fault.HOST.mttf`,
/// `fault.HOST.mttr`, `fault.HOST.burst`), so the fault timeline depends only on the seed.
public final class FaultInjector: EventHandler {
  enum Kind: Int32 {
    case scheduled = 0  // payload: index into `faults` (start)
    case scheduledEnd = 1  // payload: index (end)
    case randomFail = 2  // payload: host
    case randomRecover = 3  // payload: host
  }

  struct RandomClock {
    var spec: Int
    var mttf: RandomStream
    var mttr: RandomStream
    var burst: RandomStream
    var pendingFailure: EventHandle?
  }

  unowned let platform: Platform
  unowned let simulator: Simulator
  let faults: [FaultSpec]
  var me = EntityID(0)
  var partitionIDs: [Int: Int] = [:]
  var degradationIDs: [Int: Int] = [:]
  /// Hosts that fail at random, with their streams and next failure.
  var clocks: [Int32: RandomClock] = [:]
  var randomlyDown: Set<Int32> = []
  /// The MTTR distribution each randomly failed host recovers by.
  var recoveryOf: [Int32: Distribution] = [:]

  /// Registers with `simulator` and schedules every fault of `faults`: scheduled ones at their times,
  /// random ones by a first MTTF draw per host from the streams `fault.HOST.mttf` (also `.mttr` and
  /// `.burst`) of `streams`, which should be the run's ``RunContext/streams``. The faults are taken as
  /// valid (``FaultSpec/decode(_:spec:baseDirectory:)`` checks them against the platform).
  public init(faults: [FaultSpec], platform: Platform, simulator: Simulator, streams: RandomStreams) {
    self.faults = faults
    self.platform = platform
    self.simulator = simulator
    me = simulator.register(self)
    for (i, fault) in faults.enumerated() {
      switch fault {
      case .hostCrash(let at, _, _), .rackPowerLoss(let at, _, _), .diskFailure(let at, _, _),
        .diskDegraded(let at, _, _, _, _, _), .linkFailure(let at, _, _),
        .partition(let at, _, _):
        simulator.schedule(at: at, to: me, kind: Kind.scheduled.rawValue, payload: Int64(i))
      case .random(let hosts, _, _, _, _):
        for host in hosts where clocks[host] == nil {
          let name = platform.name(of: HostID(host))
          clocks[host] = RandomClock(
            spec: i, mttf: streams.stream("fault.\(name).mttf"), mttr: streams.stream("fault.\(name).mttr"),
            burst: streams.stream("fault.\(name).burst"))
          scheduleFailure(host)
        }
      }
    }
  }

  func scheduleFailure(_ host: Int32) {
    guard let clock = clocks[host], case .random(_, let mttf, _, _, _) = faults[clock.spec] else { return }
    clocks[host]!.pendingFailure = simulator.schedule(
      after: mttf.sampleTime(clock.mttf), to: me, kind: Kind.randomFail.rawValue, payload: Int64(host))
  }

  /// Applies a fault that starts or ends now, or a random failure or recovery, through ``Platform``
  /// (whose observers are told from inside this call).
  public func handle(_ event: Event, in simulator: Simulator) {
    let host = Int32(truncatingIfNeeded: event.payload)
    switch Kind(rawValue: event.kind) {
    case .scheduled: apply(Int(event.payload), starting: true)
    case .scheduledEnd: apply(Int(event.payload), starting: false)
    case .randomFail:
      guard let clock = clocks[host],
        case .random(_, _, let mttr, let burstHosts, let burstProbability) = faults[clock.spec]
      else { return }
      clocks[host]!.pendingFailure = nil
      failRandomly(host, mttr: mttr, stream: clock.mttr)
      if burstHosts > 0, clock.burst.uniform() < burstProbability {
        let rack = platform.rack(of: HostID(host))
        var candidates = platform.hosts(inRack: rack).map(\.index).filter { !randomlyDown.contains($0) }
        for _ in 0..<min(burstHosts, candidates.count) {
          let victim = candidates.remove(at: clock.burst.uniformInt(candidates.count))
          failRandomly(victim, mttr: mttr, stream: clocks[victim]?.mttr ?? clock.mttr)
        }
      }
    case .randomRecover:
      randomlyDown.remove(host)
      recoveryOf.removeValue(forKey: host)
      platform.setHost(HostID(host), down: false)
      scheduleFailure(host)
    case nil: preconditionFailure("unknown fault event")
    }
  }

  /// A random failure (or a burst's victim): down now, up again after an MTTR draw. A victim's
  /// own pending failure is cancelled; its clock restarts when it recovers.
  func failRandomly(_ host: Int32, mttr: Distribution, stream: RandomStream) {
    guard !randomlyDown.contains(host) else { return }
    randomlyDown.insert(host)
    if let pending = clocks[host]?.pendingFailure {
      simulator.cancel(pending)
      clocks[host]!.pendingFailure = nil
    }
    platform.setHost(HostID(host), down: true)
    simulator.schedule(after: mttr.sampleTime(stream), to: me, kind: Kind.randomRecover.rawValue, payload: Int64(host))
  }

  func apply(_ index: Int, starting: Bool) {
    let fault = faults[index]
    func later(_ duration: SimTime?) {
      if starting, let duration {
        simulator.schedule(after: duration, to: me, kind: Kind.scheduledEnd.rawValue, payload: Int64(index))
      }
    }
    switch fault {
    case .hostCrash(_, let host, let duration):
      platform.setHost(HostID(host), down: starting)
      later(duration)
    case .rackPowerLoss(_, let rack, let duration):
      for host in platform.hosts(inRack: rack) { platform.setHost(host, down: starting) }
      later(duration)
    case .diskFailure(_, let host, let disk):
      platform.failDisk(HostID(host), disk: disk)
    case .diskDegraded(_, let host, let disk, let read, let write, let duration):
      if starting {
        degradationIDs[index] = platform.degradeDisk(HostID(host), disk: disk, read: read, write: write)
      } else if let id = degradationIDs.removeValue(forKey: index) {
        platform.restoreDisk(id)
      }
      later(duration)
    case .linkFailure(_, let link, let duration):
      platform.setLink(link, down: starting)
      later(duration)
    case .partition(_, let groups, let duration):
      if starting {
        partitionIDs[index] = platform.partition(groups)
      } else if let id = partitionIDs.removeValue(forKey: index) {
        platform.heal(id)
      }
      later(duration)
    case .random: break
    }
  }
}

extension Platform {
  /// Seconds hosts spent down, summed over hosts, from the last statistics reset to `time`.
  public func hostDownSeconds(until time: SimTime) -> Double {
    hostDown.reduce(0) { $0 + $1.average(until: time) * (time - $1.startTime).seconds }
  }

  /// Seconds during which at least one partition was in force.
  public func partitionSeconds(until time: SimTime) -> Double {
    partitioned.average(until: time) * (time - partitioned.startTime).seconds
  }
}
