import CRabbitMQ

extension AMQPMessageProperties {
    private static let persistentDeliveryMode: UInt8 = 2
    private static let transientDeliveryMode: UInt8 = 1

    init(_ properties: amqp_basic_properties_t) {
        func isSet(_ flag: Int32) -> Bool { properties._flags & amqp_flags_t(flag) != 0 }
        self.init(
            contentType: isSet(AMQP_BASIC_CONTENT_TYPE_FLAG) ? String(properties.content_type) : nil,
            messageId: isSet(AMQP_BASIC_MESSAGE_ID_FLAG) ? String(properties.message_id) : nil,
            persistent: isSet(AMQP_BASIC_DELIVERY_MODE_FLAG) && properties.delivery_mode == Self.persistentDeliveryMode,
            headers: isSet(AMQP_BASIC_HEADERS_FLAG) ? AMQPFieldValue.fields(of: properties.headers) : [:],
            expirationMilliseconds: isSet(AMQP_BASIC_EXPIRATION_FLAG) ? Int(String(properties.expiration)) : nil
        )
    }

    /// The C properties for publishing, with memory owned by `arena`.
    func cProperties(in arena: CArena) -> amqp_basic_properties_t {
        var properties = amqp_basic_properties_t()
        properties._flags = amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG)
        properties.delivery_mode = persistent ? Self.persistentDeliveryMode : Self.transientDeliveryMode
        if let contentType {
            properties._flags |= amqp_flags_t(AMQP_BASIC_CONTENT_TYPE_FLAG)
            properties.content_type = arena.bytes(contentType)
        }
        if let messageId {
            properties._flags |= amqp_flags_t(AMQP_BASIC_MESSAGE_ID_FLAG)
            properties.message_id = arena.bytes(messageId)
        }
        if let expirationMilliseconds {
            properties._flags |= amqp_flags_t(AMQP_BASIC_EXPIRATION_FLAG)
            properties.expiration = arena.bytes(String(expirationMilliseconds))
        }
        if !headers.isEmpty {
            properties._flags |= amqp_flags_t(AMQP_BASIC_HEADERS_FLAG)
            properties.headers = arena.table(headers)
        }
        return properties
    }
}
