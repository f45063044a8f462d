import Testing

@testable import SimKernel

@Suite struct SimTimeTests {
  @Test(arguments: [
    ("250us", Int64(250_000)), ("5ms", 5_000_000), ("1.5s", 1_500_000_000), ("2m", 120_000_000_000),
    ("1h", 3_600_000_000_000), ("0", 0), ("0.1s", 100_000_000), ("7ns", 7), ("1.000000001s", 1_000_000_001),
    (" 3 ms ", 3_000_000), ("2d", 172_800_000_000_000), ("0.5us", 500), ("1µs", 1000),
    // docs/EXPERIMENTS.md lists `min` beside `m`.
    ("10min", 600_000_000_000), ("1.5min", 90_000_000_000),
  ])
  func parsesDurationsExactly(text: String, nanoseconds: Int64) throws {
    #expect(try SimTime(parsing: text).nanoseconds == nanoseconds)
  }

  @Test(arguments: [
    ("-5ms", "negative"), ("5", "no unit"), ("5 parsecs", "unknown duration unit"), ("", "empty"),
    ("1.0000000001s", "finer than"), ("300y", "unknown duration unit"), ("1e3s", "unknown duration unit"),
    ("ms", "not a number"), ("1.2.3s", "not a number"), ("999999999999h", "292 years"),
  ])
  func rejectsBadDurations(text: String, fragment: String) {
    #expect {
      _ = try SimTime(parsing: text)
    } throws: { error in
      (error as? ValueError)?.message.contains(fragment) == true
    }
  }

  @Test func formatsInTheLargestExactUnit() {
    #expect(SimTime(nanoseconds: 1_500_000_000).formatted == "1.5s")
    #expect(SimTime.microseconds(250).formatted == "250us")
    #expect(SimTime.seconds(120).formatted == "2m")
    #expect(SimTime.seconds(3600).formatted == "1h")
    #expect(SimTime.zero.formatted == "0s")
    #expect(SimTime(nanoseconds: 1_000_001).formatted == "1.000001ms")
    #expect(SimTime(nanoseconds: 17).formatted == "17ns")
  }

  @Test func formattingRoundTrips() throws {
    var stream = SplitMix64(seed: 42)
    for _ in 0..<2000 {
      let ns = Int64(stream.next() % 10_000_000_000_000)
      let time = SimTime(nanoseconds: ns)
      #expect(try SimTime(parsing: time.formatted) == time)
    }
  }

  @Test func arithmeticSaturatesInsteadOfTrapping() {
    #expect(SimTime.max + .seconds(1) == .max)
    #expect(SimTime(nanoseconds: 5) + SimTime(nanoseconds: 7) == SimTime(nanoseconds: 12))
    #expect(SimTime(seconds: 1e300) == .max)
    #expect(SimTime(seconds: -3) == .zero)
    #expect(SimTime(seconds: 0.0000000015).nanoseconds == 2)
  }

  @Test func validatingSecondsRejectsNegativeAndHuge() throws {
    #expect(throws: ValueError.self) { _ = try SimTime(validatingSeconds: -1) }
    #expect(throws: ValueError.self) { _ = try SimTime(validatingSeconds: .nan) }
    #expect(throws: ValueError.self) { _ = try SimTime(validatingSeconds: 1e12) }
    #expect(try SimTime(validatingSeconds: 2.5) == SimTime(nanoseconds: 2_500_000_000))
  }
}

@Suite struct QuantityTests {
  /// A bandwidth prints in the shortest exact text, bits or bytes a second, a tie to bits; each
  /// reads back as the same value.
  @Test func bandwidthsPrintInTheirShortestExactUnit() throws {
    let cases: [(Double, String)] = [
      (1.25e9, "10Gbps"), (200e6, "1.6Gbps"), (25_165_824, "24MiB/s"), (1, "1B/s"), (1e15, "1PB/s"),
      (125_000, "1Mbps"), (1_048_576, "1MiB/s"),
    ]
    for (value, text) in cases {
      #expect(Quantity.format(value, as: .bandwidth) == text)
      #expect(try Quantity.parse(text, as: .bandwidth) == value)
    }
  }

  @Test func parsesSizes() throws {
    #expect(try Quantity.parse("128MiB", as: .size) == 134_217_728)
    #expect(try Quantity.parse("1GB", as: .size) == 1e9)
    #expect(try Quantity.parse("4 KiB", as: .size) == 4096)
    #expect(try Quantity.parse("0", as: .size) == 0)
    #expect(throws: ValueError.self) { _ = try Quantity.parse("12", as: .size) }
    #expect(throws: ValueError.self) { _ = try Quantity.parse("12MB/s", as: .size) }
    #expect(throws: ValueError.self) { _ = try Quantity.parse("-1GB", as: .size) }
  }

  @Test func parsesRates() throws {
    #expect(try Quantity.parse("100k/s", as: .rate) == 100_000)
    #expect(try Quantity.parse("5/ms", as: .rate) == 5000)
    #expect(try Quantity.parse("60/m", as: .rate) == 1)
    #expect(throws: ValueError.self) { _ = try Quantity.parse("100", as: .rate) }
    #expect(throws: ValueError.self) { _ = try Quantity.parse("100x/s", as: .rate) }
  }

  @Test func formatsWithUnits() {
    #expect(Quantity.format(134_217_728, as: .size) == "128MiB")
    #expect(Quantity.format(0.005, as: .duration) == "5ms")
    #expect(Quantity.format(2e9, as: .size) == "2GB")
  }
}
