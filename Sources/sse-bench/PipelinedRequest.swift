import NIOCore
import NIOHTTP1

/// One publish written into a keep-alive connection: the request and who waits for its status.
struct PipelinedRequest {
    let head: HTTPRequestHead
    let body: ByteBuffer
    let status: EventLoopPromise<Int>
}
