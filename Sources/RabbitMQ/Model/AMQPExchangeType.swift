/// The routing algorithm of an exchange; the raw value is the name the broker expects.
public enum AMQPExchangeType: String, Sendable {
    case direct, fanout, topic, headers
}
