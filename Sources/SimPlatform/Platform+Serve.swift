import SimKernel

extension Platform {
  /// The sender's half of a shuffle: `bytes` read from disk `disk` of `source` and sent up its
  /// host link and, with several racks, its rack's uplink, as one activity. With ``gather(bytes:to:observer:tag:)``
  /// on the receivers' side it charges both ends of an aggregated all-to-all transfer (a
  /// MapReduce shuffle) without a flow per pair. With an explicit topology the route to another
  /// host stands in for "to all over". With `disk` nil the bytes come from memory (the page
  /// cache): the links only, without the disk's latency.
  @discardableResult
  public func serve(bytes: Double, from source: HostID, disk: Int?, observer: any ActivityObserver, tag: Int64 = 0)
    -> ActivityID
  {
    let s = hosts[Int(source.index)]
    guard s.up else { return fluid.startFailed(observer: observer, tag: tag, reason: .hostDown) }
    var resources: [ResourceID] = []
    if let disk {
      precondition(disk < s.diskRead.count, "host \(s.name) has no disk\(disk)")
      if s.diskFailed[disk] { return fluid.startFailed(observer: observer, tag: tag, reason: .diskFailed) }
      resources.append(s.diskRead[disk])
    }
    var cap = Double.infinity
    if spec.explicit != nil {
      if hosts.count > 1 {
        let other = HostID(source.index == 0 ? 1 : 0)
        resources += route(from: source, to: other).resources.filter { !resources.contains($0) }
      }
    } else if spec.cluster != nil || spec.fatTree != nil {
      // The sender's half of the route to a far host (another cabinet or pod).
      if let far = farHost(from: source) {
        let path = route(from: source, to: far).resources
        resources += path.prefix(senderSide(of: path.count))
        cap = rateCap(from: source, to: far)
      }
    } else {
      resources.append(s.linkUp)
      if spec.racks > 1 { resources.append(rackUp[s.rack]) }
    }
    return fluid.start(
      amount: bytes, on: resources, maxRate: cap, latency: disk == nil ? .zero : spec.diskLatency, observer: observer,
      tag: tag,
      endpoints: (source.index, source.index))
  }
}

extension FluidModel {
  /// The units a running activity has still to serve (0 once it is served or gone): what a
  /// model reads as a task's progress.
  public func remaining(of activity: ActivityID) -> Double {
    guard isCurrent(activity) else { return 0 }
    let a = activities[Int(activity.slot)]
    let elapsed = Double(simulator.now.nanoseconds - a.lastUpdate.nanoseconds) / 1e9
    return max(0, a.remaining - a.rate * elapsed)
  }

  /// The amount a running activity was started with (0 once it is gone).
  public func amount(of activity: ActivityID) -> Double {
    isCurrent(activity) ? activities[Int(activity.slot)].amount : 0
  }
}
