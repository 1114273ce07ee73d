import CRabbitMQ

/// Owns the C memory behind the strings, byte buffers and tables handed to one rabbitmq-c call.
///
/// rabbitmq-c takes `amqp_bytes_t` and `amqp_table_t` by pointer and copies them while encoding,
/// so the memory only has to live until the call returns: use `CArena.with { arena in ... }`.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    private init() {}

    static func with<Result>(_ body: (CArena) throws -> Result) rethrows -> Result {
        let arena = CArena()
        defer { arena.release() }
        return try body(arena)
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        bytes(Array(string.utf8))
    }

    func bytes(_ source: [UInt8]) -> amqp_bytes_t {
        // At least one byte, so that even an empty value has a valid pointer.
        let memory = allocate(byteCount: max(source.count, 1))
        source.withUnsafeBytes { buffer in
            if let baseAddress = buffer.baseAddress {
                memory.copyMemory(from: baseAddress, byteCount: buffer.count)
            }
        }
        return amqp_bytes_t(len: source.count, bytes: memory)
    }

    func table(_ fields: [String: AMQPFieldValue]) -> amqp_table_t {
        table(fields.sorted { $0.key < $1.key }.map { ($0.key, fieldValue($0.value)) })
    }

    func table(_ entries: [(key: String, value: amqp_field_value_t)]) -> amqp_table_t {
        guard !entries.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let memory = allocate(byteCount: MemoryLayout<amqp_table_entry_t>.stride * entries.count)
        let table = memory.bindMemory(to: amqp_table_entry_t.self, capacity: entries.count)
        for (index, entry) in entries.enumerated() {
            (table + index).initialize(to: amqp_table_entry_t(key: bytes(entry.key), value: entry.value))
        }
        return amqp_table_t(num_entries: Int32(entries.count), entries: table)
    }

    func fieldValue(_ value: AMQPFieldValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        switch value {
        case .string(let string):
            field.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
            field.value.bytes = bytes(string)
        case .int(let integer):
            field.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue)
            field.value.i64 = integer
        case .bool(let boolean):
            field.kind = UInt8(AMQP_FIELD_KIND_BOOLEAN.rawValue)
            field.value.boolean = boolean ? 1 : 0
        }
        return field
    }

    func fieldValue(_ nested: amqp_table_t) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        field.kind = UInt8(AMQP_FIELD_KIND_TABLE.rawValue)
        field.value.table = nested
        return field
    }

    private func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        let memory = UnsafeMutableRawPointer.allocate(
            byteCount: byteCount, alignment: MemoryLayout<amqp_table_entry_t>.alignment)
        allocations.append(memory)
        return memory
    }

    private func release() {
        for memory in allocations { memory.deallocate() }
        allocations.removeAll()
    }
}
