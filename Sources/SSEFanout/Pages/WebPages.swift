/// The demo page (`GET /demo`, demo mode only) and the admin page (`GET /admin`): plain HTML with
/// their CSS and script inline, no build step. Their text is compiled in (`WebPages+Files.swift`,
/// written by scripts/embed-web-files.sh), like the browser client.
enum WebPages {
    static let demo = BrowserClient.file(demoSource, contentType: "text/html; charset=utf-8")
    static let admin = BrowserClient.file(adminSource, contentType: "text/html; charset=utf-8")

    /// Headers of both pages: never framed, scripts only from the node itself (and their own inline
    /// ones), and checked again on every load (`ETag`), so a new node version shows at once.
    static let headers = [
        ("Cache-Control", "no-cache"), ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
        ("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"),
        ("Referrer-Policy", "no-referrer"),
    ]
}
