// FlannelPS is Linux-only (TUN, netns, iptables, Unix file modes): say so once for the analyzers.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
