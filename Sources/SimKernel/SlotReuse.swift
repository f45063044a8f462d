extension Array {
  /// Stores `element` in a free slot (the last index of `free`, which it takes) or at the end,
  /// and returns its index: slot reuse for models that keep records in an array by Int32 id.
  public mutating func store(_ element: Element, reusing free: inout [Int32]) -> Int32 {
    if let slot = free.popLast() {
      self[Int(slot)] = element
      return slot
    }
    append(element)
    return Int32(count - 1)
  }
}
