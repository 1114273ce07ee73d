import Foundation

/// Where the sse-fanout repository is, and the files of it the suite uses.
struct RepositoryLayout: Sendable {
    let root: String

    var servicesScript: String { root + "/scripts/services.sh" }
    var defaultRunDirectory: String { root + "/.run/chaos" }

    /// `explicit` if given; otherwise the first directory holding scripts/services.sh, walking up from
    /// the current directory and then from this executable (which lives in <root>/.build/<config>/).
    static func locate(explicit: String?) throws -> RepositoryLayout {
        if let explicit {
            let root = URL(fileURLWithPath: explicit).standardizedFileURL.path
            guard isRepository(root) else { throw ChaosError.repositoryNotFound(explicit) }
            return RepositoryLayout(root: root)
        }
        let starts = [
            FileManager.default.currentDirectoryPath,
            URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path,
        ]
        for start in starts {
            var directory = URL(fileURLWithPath: start).standardizedFileURL
            while true {
                if isRepository(directory.path) { return RepositoryLayout(root: directory.path) }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        throw ChaosError.repositoryNotFound(starts[0])
    }

    private static func isRepository(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/Package.swift")
            && FileManager.default.fileExists(atPath: path + "/scripts/services.sh")
    }

    /// `<swift build --show-bin-path>/sse-fanout`: the node binary of the current debug build.
    /// Runs once at startup, so blocking this thread for the second it takes is harmless.
    func defaultNodeBinary() throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "build", "--package-path", root, "--show-bin-path"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let binPath = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, !binPath.isEmpty else {
            throw ChaosError.commandFailed("swift build --show-bin-path", status: process.terminationStatus, log: "its output")
        }
        return binPath + "/sse-fanout"
    }
}
