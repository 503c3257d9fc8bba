using System.Diagnostics;

namespace RealtimeMirror.Fuzz;

/// <summary>
/// The module under test, run the way an admin runs it: a child pwsh that registers the targets in a private
/// REALTIMEMIRROR_CONFIG and then runs `Start-MirrorWatch SRC -Target ... -InitialSync -Wait`. Its output goes to a log.
/// </summary>
public sealed class Service : IDisposable
{
    readonly string pwsh, modulePath, configPath, logPath, setupScript;
    readonly Dictionary<string, string> env;
    Process proc;
    StreamWriter log;
    readonly object gate = new();
    public int Starts { get; private set; }

    public Service(string pwsh, string modulePath, string configPath, string logPath, string setupScript, Dictionary<string, string> env)
    {
        this.pwsh = pwsh; this.modulePath = modulePath; this.configPath = configPath; this.logPath = logPath;
        this.setupScript = setupScript; this.env = env;
    }

    public bool Running => proc is { HasExited: false };

    public void Start()
    {
        Starts++;
        log ??= new StreamWriter(logPath, append: true) { AutoFlush = true };
        Log($"=== start #{Starts} at {DateTime.UtcNow:HH:mm:ss.fff}Z ===");
        var psi = new ProcessStartInfo(pwsh)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add("-NoProfile");
        psi.ArgumentList.Add("-NonInteractive");
        psi.ArgumentList.Add("-Command");
        psi.ArgumentList.Add($"Import-Module '{modulePath}' -ErrorAction Stop; {setupScript}");
        psi.Environment["REALTIMEMIRROR_CONFIG"] = configPath;
        foreach (var (k, v) in env) psi.Environment[k] = v;
        proc = Process.Start(psi)!;
        proc.OutputDataReceived += (_, e) => { if (e.Data != null) Log(e.Data); };
        proc.ErrorDataReceived += (_, e) => { if (e.Data != null) Log("ERR " + e.Data); };
        proc.BeginOutputReadLine();
        proc.BeginErrorReadLine();
    }

    public void Log(string line) { lock (gate) log?.WriteLine(line); }

    /// <summary>SIGKILL, no chance to flush or clean up: what a power cut or the OOM killer does.</summary>
    public void Kill()
    {
        if (proc == null) return;
        Log($"=== SIGKILL at {DateTime.UtcNow:HH:mm:ss.fff}Z ===");
        try { proc.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        proc.WaitForExit(10_000);
        proc.Dispose();
        proc = null;
    }

    public string ExitNote() => proc is { HasExited: true } ? $"service exited early with code {proc.ExitCode} (see log)" : null;

    public void Dispose()
    {
        Kill();
        lock (gate) { log?.Dispose(); log = null; }
    }

    /// <summary>Finds a pwsh: --pwsh, then ~/.dotnet/tools/pwsh, then PATH.</summary>
    public static string FindPwsh(string given)
    {
        if (!string.IsNullOrEmpty(given)) return given;
        var tool = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet/tools/pwsh");
        if (File.Exists(tool)) return tool;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
            if (File.Exists(Path.Combine(dir, "pwsh"))) return Path.Combine(dir, "pwsh");
        throw new FileNotFoundException("pwsh not found (give --pwsh)");
    }
}

/// <summary>
/// The fuzzer's own throwaway sshd (tests/sshd/start-test-sshd.sh with a private state folder and port), so restarting
/// it never disturbs the shared test sshd other test runs use.
/// </summary>
public sealed class Sshd
{
    readonly string script, state;
    readonly int port;
    public Dictionary<string, string> Env { get; private set; } = new();

    public Sshd(string repo, int port)
    {
        script = Path.Combine(repo, "tests/sshd/start-test-sshd.sh");
        this.port = port;
        state = $"/tmp/rtm-fuzz-sshd-{port}";
    }

    public void Start()
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        psi.Environment["RTM_SSHD_STATE"] = state;
        psi.Environment["RTM_SSHD_PORT"] = port.ToString();
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"start-test-sshd.sh failed ({p.ExitCode}): {err}");
        Env = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).Where(kv => kv.Length == 2)
            .ToDictionary(kv => kv[0].Trim(), kv => kv[1].Trim());
    }

    /// <summary>Stops the listener and its per-connection children (only processes whose parent is our sshd), then starts it again.</summary>
    public void Restart(Action<string> log)
    {
        var pidFile = Path.Combine(state, "sshd.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
        {
            var children = Directory.GetDirectories("/proc").Select(d => Path.GetFileName(d)).Where(n => n.All(char.IsDigit))
                .Select(int.Parse).Where(c => ParentOf(c) == pid).ToList();
            foreach (var c in children.Prepend(pid)) { try { Process.GetProcessById(c).Kill(); } catch { } }
            log($"sshd {pid} stopped ({children.Count} connection processes dropped)");
            for (var i = 0; i < 50 && File.Exists($"/proc/{pid}"); i++) Thread.Sleep(50);
            try { File.Delete(pidFile); } catch { }
        }
        Thread.Sleep(500);
        Start();
        log("sshd started again");
    }

    static int ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(rest[1]);
        }
        catch { return -1; }
    }
}
