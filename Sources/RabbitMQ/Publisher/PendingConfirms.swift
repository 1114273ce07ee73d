/// The messages of one published batch that still await their publisher confirm.
///
/// The broker numbers the messages on a confirm-mode channel 1, 2, 3, ...; a batch is published
/// back to back, so its delivery tags are consecutive and a tag maps straight to an index.
struct PendingConfirms {
    private struct Entry {
        let request: PublishRequest
        /// A basic.return came for it; the ack that follows then means "returned", not "confirmed".
        var returned = false
    }

    let firstDeliveryTag: UInt64
    private var entries: [Entry?] = []
    private var unresolvedCount = 0
    /// Every entry before this index is resolved; lets `multiple` acks skip what is done.
    private var lowestUnresolvedIndex = 0
    /// Indexes of mandatory messages by message id, oldest first: a basic.return carries no
    /// delivery tag, only the message (and so its id).
    private var mandatoryIndexesByMessageId: [String: [Int]] = [:]

    init(firstDeliveryTag: UInt64) {
        self.firstDeliveryTag = firstDeliveryTag
    }

    var isEmpty: Bool { unresolvedCount == 0 }

    /// The delivery tag the next appended message gets.
    var nextDeliveryTag: UInt64 { firstDeliveryTag + UInt64(entries.count) }

    /// Records a message just published; `returnMatchingId` is its message id if it was mandatory.
    mutating func append(_ request: PublishRequest, returnMatchingId: String?) {
        if let returnMatchingId {
            mandatoryIndexesByMessageId[returnMatchingId, default: []].append(entries.count)
        }
        entries.append(Entry(request: request))
        unresolvedCount += 1
    }

    mutating func acknowledge(deliveryTag: UInt64, multiple: Bool) {
        resolve(deliveryTag: deliveryTag, multiple: multiple) { entry in
            .success(entry.returned ? .returned : .confirmed)
        }
    }

    mutating func negativelyAcknowledge(deliveryTag: UInt64, multiple: Bool) {
        resolve(deliveryTag: deliveryTag, multiple: multiple) { _ in .failure(.nacked) }
    }

    /// Marks the oldest unresolved mandatory message with this id as returned; false if none matches.
    mutating func markReturned(messageId: String) -> Bool {
        guard var indexes = mandatoryIndexesByMessageId[messageId] else { return false }
        defer { mandatoryIndexesByMessageId[messageId] = indexes.isEmpty ? nil : indexes }
        while !indexes.isEmpty {
            let index = indexes.removeFirst()
            if entries[index] != nil && entries[index]?.returned == false {
                entries[index]?.returned = true
                return true
            }
        }
        return false
    }

    /// Fails every message still waiting, e.g. when the channel or connection is lost.
    mutating func failAll(with error: AMQPError) {
        for index in lowestUnresolvedIndex..<entries.count {
            resolve(index: index, with: .failure(error))
        }
    }

    private mutating func resolve(
        deliveryTag: UInt64, multiple: Bool, result: (Entry) -> Result<AMQPPublishOutcome, AMQPError>
    ) {
        // Tags below the batch belong to earlier batches that already timed out.
        guard deliveryTag >= firstDeliveryTag else { return }
        let offset = deliveryTag - firstDeliveryTag
        let indexes: Range<Int>
        if multiple {
            let end = Int(min(offset + 1, UInt64(entries.count)))
            guard end > lowestUnresolvedIndex else { return }
            indexes = lowestUnresolvedIndex..<end
        } else {
            guard offset < UInt64(entries.count) else { return }
            indexes = Int(offset)..<Int(offset + 1)
        }
        for index in indexes {
            if let entry = entries[index] {
                resolve(index: index, with: result(entry))
            }
        }
    }

    private mutating func resolve(index: Int, with result: Result<AMQPPublishOutcome, AMQPError>) {
        guard let entry = entries[index] else { return }
        entries[index] = nil
        unresolvedCount -= 1
        entry.request.complete(result)
        while lowestUnresolvedIndex < entries.count && entries[lowestUnresolvedIndex] == nil {
            lowestUnresolvedIndex += 1
        }
    }
}
