import CRabbitMQ

extension AMQPConnection {
    /// How many messages wait in `queue` and how many consumers take from it (a passive declare, which
    /// changes nothing); nil when there is no such queue. The broker answers a missing one by closing
    /// the channel, which is then opened again.
    func depth(of queue: String) throws -> (messages: Int, consumers: Int)? {
        let declareOk = CArena.with { arena in
            amqp_queue_declare(state, Self.channel, arena.bytes(queue), 1, 0, 0, 0, arena.table([:]))
        }
        let reply = amqp_get_rpc_reply(state)
        if reply.isNormal, let declareOk {
            return (Int(declareOk.pointee.message_count), Int(declareOk.pointee.consumer_count))
        }
        let action = "inspecting queue '\(queue)'"
        guard reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION, reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD,
            reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee.reply_code == UInt16(AMQP_NOT_FOUND)
        else {
            throw failure(from: reply, doing: action)
        }
        _ = failure(from: reply, doing: action)  // answers the close
        try reopenChannel()
        return nil
    }
}
