namespace RealtimeMirror.Engine.Targets
{
    /// <summary>
    /// The one way an error about a target is worded for people: "Target 'NAME': PATH: what went wrong". SSH.NET and the
    /// OS say "Client not connected." or "Permission denied"; with several targets (or in a service's status) that does
    /// not say where. Messages the engine already words that way are kept as they are.
    /// </summary>
    public static class TargetErrorText
    {
        public static string Of(string target, string relativePath, string message)
        {
            var prefix = $"Target '{target}'";
            if (string.IsNullOrEmpty(target) || (message ?? "").StartsWith(prefix, System.StringComparison.Ordinal)) return message;
            return string.IsNullOrEmpty(relativePath) ? $"{prefix}: {message}" : $"{prefix}: {relativePath}: {message}";
        }
    }
}
