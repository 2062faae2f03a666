using FlannelPS.Core.Errors;

namespace FlannelPS.Core.Files;


/// <summary>A step that needs subnet.env found none: the node has not run yet, or -SubnetFile is wrong.</summary>
public sealed class SubnetFileNotFoundException(string path)
    : FlannelException("FlannelSubnetFileNotFound", FlannelErrorCategory.ObjectNotFound,
        $"Subnet file '{path}' does not exist. Start the flannel node first (it writes subnet.env), or pass -SubnetFile.", path);
