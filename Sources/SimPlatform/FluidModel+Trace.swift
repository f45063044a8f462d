import SimKernel

/// The activity trace (`outputs.trace`): one CSV row per traced activity, written when it ends
/// (its last unit served, its failure or its cancellation; one that cannot start, when it is
/// refused) or, still running, at the end of the run. An activity refused before it named its
/// resources (a transfer across a partition) has no route and no kind, and is always traced.
/// Nothing is kept per activity for it but its start time and serial number, which every
/// activity carries anyway; with no trace asked for, it costs one test per ending.
extension FluidModel {
  /// The columns of a trace, in order.
  public static let traceHeader = [
    "activity", "kind", "by", "start_s", "end_s", "latency_s", "amount", "served", "src", "dst", "route", "outcome",
  ]

  /// Starts writing the trace `request` asks for; `hostName` names the hosts of endpoints.
  public func startTracing(_ request: ActivityTraceRequest, hostName: @escaping (Int32) -> String) {
    var kinds: UInt8 = 0
    for (bit, name) in ActivityTraceRequest.allKinds.enumerated() where request.kinds.contains(name) {
      kinds |= 1 << bit
    }
    trace = ActivityTraceState(request: request, kinds: kinds, hostName: hostName)
    request.sink.write(Self.traceHeader.joined(separator: ",") + "\n")
  }

  /// Writes the rows of the activities still being served now (outcome `running`), in slot
  /// order; called once, at the end of the run.
  public func traceRunning() {
    guard trace != nil else { return }
    for slot in 0..<Int32(activities.count) where activities[Int(slot)].active && activities[Int(slot)].placed {
      traceRow(slot, outcome: "running")
    }
  }

  /// The row of the activity in `slot`, ending now with `outcome`, if the trace wants it.
  func traceRow(_ slot: Int32, outcome: String) {
    guard let state = trace else { return }
    let finished = outcome == "finished"
    let a = activities[Int(slot)]
    let now = simulator.now
    guard now >= state.request.from, a.started <= state.request.until else { return }
    let base = Int(slot) * routeStride
    let length = Int(a.pathLength)
    // The kinds it is, as bits in the order of ActivityTraceRequest.allKinds.
    var kinds: UInt8 = 0
    for k in 0..<length {
      switch resources[Int(routeResource[base + k])].kind {
      case .hostLink, .uplink: kinds |= 1
      case .disk: kinds |= 2
      case .cpu: kinds |= 4
      }
    }
    // No resources: a control message (it takes only latency), or one refused before it had any.
    if length == 0, finished { kinds |= 8 }
    guard length == 0 && !finished || kinds & state.kinds != 0 else { return }
    var line = String(a.serial)
    line += ","
    var first = true
    for (bit, name) in ActivityTraceRequest.allKinds.enumerated() where kinds & (1 << bit) != 0 {
      line += first ? name : "+" + name
      first = false
    }
    line += ","
    if a.observer >= 0 { line += csvField(observerName(Int(a.observer))) }
    // Units served: all of them if it finished; else what its rate had done by now.
    let served =
      finished ? a.amount : max(0, a.amount - max(0, a.remaining - a.rate * (now - a.lastUpdate).seconds))
    line += "," + Self.traceSeconds(a.started) + "," + Self.traceSeconds(now) + "," + Self.traceSeconds(a.latency)
    line += "," + Self.traceNumber(a.amount) + "," + Self.traceNumber(served) + ","
    if let (from, to) = a.endpoints {
      line += csvField(state.hostName(from)) + "," + csvField(state.hostName(to))
    } else {
      line += ","
    }
    line += ","
    var route = ""
    for k in 0..<length {
      if k > 0 { route += " " }
      route += resources[Int(routeResource[base + k])].name
    }
    line += csvField(route) + "," + outcome + "\n"
    state.request.sink.write(line)
  }

  /// The type name of observer `k` (the entity that started an activity), found once.
  func observerName(_ k: Int) -> String {
    while trace!.observerNames.count <= k { trace!.observerNames.append(nil) }
    if let name = trace!.observerNames[k] { return name }
    let name = String(describing: type(of: observers[k]))
    trace!.observerNames[k] = name
    return name
  }

  /// Seconds, exactly (nanoseconds are integers): `12.5`, `0.000001`.
  static func traceSeconds(_ t: SimTime) -> String {
    let ns = t.nanoseconds
    let whole = ns / 1_000_000_000
    let fraction = ns % 1_000_000_000
    guard fraction != 0 else { return String(whole) }
    var digits = String(fraction)
    digits = String(repeating: "0", count: 9 - digits.count) + digits
    while digits.hasSuffix("0") { digits.removeLast() }
    return "\(whole).\(digits)"
  }

  /// A whole number without a fraction; otherwise the shortest text that reads back the same.
  static func traceNumber(_ x: Double) -> String {
    if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
    return "\(x)"
  }
}

/// What the trace keeps: the request, the host names, and each observer's type name once.
struct ActivityTraceState {
  var request: ActivityTraceRequest
  /// The kinds asked for, as bits in the order of ``ActivityTraceRequest/allKinds``.
  var kinds: UInt8
  var hostName: (Int32) -> String
  var observerNames: [String?] = []
}

extension Platform {
  /// Starts the activity trace `request` asks for, naming endpoints by their hosts' names.
  public func startTracing(_ request: ActivityTraceRequest) {
    let names = hosts.map(\.name)
    fluid.startTracing(request) { names.indices.contains(Int($0)) ? names[Int($0)] : String($0) }
  }
}
