// The phone's own addresses, to tell when a joined network is usable (DHCP done).
// Platform-independent (getifaddrs exists on Darwin and glibc).

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

/// The IPv4 addresses of the network interface `name` (`en0` is Wi-Fi on iPhones), without
/// link-local ones (169.254.x.x: no DHCP answer yet).
func ipv4Addresses(interface name: String) -> [String] {
    var list: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&list) == 0, let first = list else { return [] }
    defer { freeifaddrs(list) }
    var addresses: [String] = []
    for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
        guard let address = entry.pointee.ifa_addr,
              address.pointee.sa_family == sa_family_t(AF_INET),
              String(cString: entry.pointee.ifa_name) == name
        else { continue }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(address, socklen_t(MemoryLayout<sockaddr_in>.size), &host, socklen_t(host.count),
                          nil, 0, NI_NUMERICHOST) == 0
        else { continue }
        let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if !text.hasPrefix("169.254.") { addresses.append(text) }
    }
    return addresses
}
