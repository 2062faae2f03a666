namespace FlannelPS.Infrastructure;
internal static class Placeholder { }
