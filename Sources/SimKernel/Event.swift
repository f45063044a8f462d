/// The index of an entity (a handler of events) registered with a ``Simulator``.
public struct EntityID: Hashable, Comparable, Sendable {
  /// The position of the entity in the simulator's table, in registration order from 0.
  public var index: Int32
  /// An ID for the entity at `index`; models get theirs from ``Simulator/register(_:)`` instead.
  @inlinable public init(_ index: Int32) { self.index = index }
  /// Registration order, for sorting entities deterministically.
  @inlinable public static func < (a: EntityID, b: EntityID) -> Bool { a.index < b.index }
}

/// One scheduled occurrence: a small value, addressed to an entity by index.
///
/// Events carry no closure, so scheduling one allocates nothing once the queue has grown to its
/// working size. What an event means is the receiving entity's business: `kind` says which of its
/// handlers to run, and `payload` is a number it interprets (an index into its own tables, a
/// message id, a count).
///
/// Events fire in (``time``, ``sequence``) order; ``sequence`` is the order of scheduling, so
/// simultaneous events fire first-scheduled first, the same way on every machine.
///
/// The value is packed into 24 bytes (three words), because the event queue's speed is bound by
/// the bytes it moves: time; sequence (56 bits) with kind (8 bits); target (24 bits) with payload
/// (40 bits). Hence the limits: 256 kinds per entity, 16,777,216 entities, payloads in
/// ±549,755,813,887, and 2^56 events per run.
public struct Event: Sendable {
  /// When the event fires.
  public var time: SimTime
  /// sequence << 8 | kind: ordering by this word is ordering by sequence, as sequences are unique.
  @usableFromInline var order: UInt64
  /// target << 40 | (payload & (2^40 - 1)).
  @usableFromInline var address: UInt64

  /// The largest event kind (kinds are 0...255, eight bits of the packed event).
  public static let maximumKind: Int32 = 255
  /// The largest entity index an event can address (24 bits: 16,777,216 entities).
  public static let maximumTarget: Int32 = (1 << 24) - 1
  /// The payloads an event can carry (40 bits, signed: ±2^39); ``Simulator/schedule(at:to:kind:payload:)``
  /// checks it.
  public static let payloadRange: ClosedRange<Int64> = -(1 << 39)...((1 << 39) - 1)

  /// Packs an event. Models do not build events: ``Simulator/schedule(at:to:kind:payload:)`` does, with
  /// the next sequence number. `kind` is kept to its low 8 bits and `payload` to its low 40, unchecked.
  @inlinable
  public init(time: SimTime, sequence: UInt64, target: EntityID, kind: Int32, payload: Int64) {
    self.time = time
    self.order = sequence << 8 | UInt64(UInt8(truncatingIfNeeded: kind))
    self.address = UInt64(UInt32(bitPattern: target.index)) << 40 | (UInt64(bitPattern: payload) & 0xFF_FFFF_FFFF)
  }

  /// Position in the global order of scheduling: the tie-breaker, and the event's handle.
  @inlinable public var sequence: UInt64 { order >> 8 }
  /// The entity the event is delivered to.
  @inlinable public var target: EntityID { EntityID(Int32(truncatingIfNeeded: address >> 40)) }
  /// Which of the entity's event kinds this is (0...255).
  @inlinable public var kind: Int32 { Int32(order & 0xFF) }
  /// Data for the entity, interpreted by it.
  @inlinable public var payload: Int64 { Int64(bitPattern: address << 24) >> 24 }

  /// The handle by which the event can be cancelled.
  @inlinable public var handle: EventHandle { EventHandle(time: time, sequence: sequence) }

  /// Strict (time, sequence) order.
  @inlinable @inline(__always)
  public static func firesBefore(_ a: Event, _ b: Event) -> Bool {
    a.time.nanoseconds < b.time.nanoseconds || (a.time.nanoseconds == b.time.nanoseconds && a.order < b.order)
  }
}

/// Identifies one scheduled event, for ``Simulator/cancel(_:)``.
public struct EventHandle: Hashable, Sendable {
  /// When the event fires.
  public var time: SimTime
  /// The event's position in the order of scheduling, which identifies it within its simulator.
  public var sequence: UInt64
  /// A handle for the event scheduled at `time` with `sequence`; normally taken from the value
  /// ``Simulator/schedule(at:to:kind:payload:)`` returns or from ``Event/handle``.
  @inlinable public init(time: SimTime, sequence: UInt64) {
    self.time = time
    self.sequence = sequence
  }
}
