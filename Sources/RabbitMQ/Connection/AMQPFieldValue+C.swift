import CRabbitMQ

extension AMQPFieldValue {
    /// Decodes the field kinds this module models; nil for the others (arrays, tables, decimals, floats, void).
    init?(_ field: amqp_field_value_t) {
        switch Int32(field.kind) {
        case Int32(AMQP_FIELD_KIND_UTF8.rawValue), Int32(AMQP_FIELD_KIND_BYTES.rawValue):
            self = .string(String(field.value.bytes))
        case Int32(AMQP_FIELD_KIND_BOOLEAN.rawValue):
            self = .bool(field.value.boolean != 0)
        case Int32(AMQP_FIELD_KIND_I8.rawValue): self = .int(Int64(field.value.i8))
        case Int32(AMQP_FIELD_KIND_U8.rawValue): self = .int(Int64(field.value.u8))
        case Int32(AMQP_FIELD_KIND_I16.rawValue): self = .int(Int64(field.value.i16))
        case Int32(AMQP_FIELD_KIND_U16.rawValue): self = .int(Int64(field.value.u16))
        case Int32(AMQP_FIELD_KIND_I32.rawValue): self = .int(Int64(field.value.i32))
        case Int32(AMQP_FIELD_KIND_U32.rawValue): self = .int(Int64(field.value.u32))
        case Int32(AMQP_FIELD_KIND_I64.rawValue): self = .int(field.value.i64)
        case Int32(AMQP_FIELD_KIND_U64.rawValue), Int32(AMQP_FIELD_KIND_TIMESTAMP.rawValue):
            self = .int(Int64(truncatingIfNeeded: field.value.u64))
        default:
            return nil
        }
    }

    /// The entries of a received table that have a supported kind.
    static func fields(of table: amqp_table_t) -> [String: AMQPFieldValue] {
        guard let entries = table.entries, table.num_entries > 0 else { return [:] }
        var fields: [String: AMQPFieldValue] = [:]
        for entry in UnsafeBufferPointer(start: entries, count: Int(table.num_entries)) {
            if let value = AMQPFieldValue(entry.value) {
                fields[String(entry.key)] = value
            }
        }
        return fields
    }
}
