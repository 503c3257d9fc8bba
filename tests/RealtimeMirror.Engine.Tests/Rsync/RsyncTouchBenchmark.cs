using System;
using System.Diagnostics;
using System.IO;
using RealtimeMirror.Engine.Transport.Rsync;
using Xunit;
using Xunit.Abstractions;

namespace RealtimeMirror.Engine.Tests.Rsync
{
    /// <summary>
    /// Not a check: times a touched 256 MiB file (every block matches) through LocalRsyncServer at protocol 27 and 31.
    /// Runs only with RTM_RSYNC_BENCH=1; prints the numbers (dotnet test --logger "console;verbosity=detailed").
    /// </summary>
    public class RsyncTouchBenchmark
    {
        private readonly ITestOutputHelper _log;
        public RsyncTouchBenchmark(ITestOutputHelper log) { _log = log; }

        [Fact]
        public void Touch_of_a_256_MiB_file_protocol_27_vs_31()
        {
            if (Environment.GetEnvironmentVariable("RTM_RSYNC_BENCH") != "1") return;
            var src = Directory.CreateTempSubdirectory("rtm-bench-src-").FullName;
            var data = new byte[256 * 1024 * 1024];
            new Random(1).NextBytes(data);
            File.WriteAllBytes(Path.Combine(src, "big"), data);
            try
            {
                foreach (var protocol in new[] { 27, 31, 27, 31, 27, 31 })
                {
                    var dst = Directory.CreateTempSubdirectory("rtm-bench-dst-").FullName;
                    try
                    {
                        File.Copy(Path.Combine(src, "big"), Path.Combine(dst, "big"));
                        PosixTestFs.SetMTime(Path.Combine(src, "big"), 1_700_000_000 + protocol);
                        var options = new RsyncPushOptions { ServerProtocol = protocol };
                        var sw = Stopwatch.StartNew();
                        using var server = LocalRsyncServer.Start(options, dst);
                        var sender = new RsyncSender(server.StandardOutput.BaseStream, server.StandardInput.BaseStream, options);
                        var stderr = server.StandardError.ReadToEndAsync();
                        var outcome = sender.Push(new TestSource(src), PosixTestFs.Walk(src), true, 0, null, default);
                        server.StandardInput.Close();
                        server.WaitForExit();
                        sw.Stop();
                        Assert.Equal(0, server.ExitCode);
                        Assert.Equal(0, outcome.LiteralBytes);
                        _log.WriteLine($"protocol {outcome.Protocol} ({outcome.Checksum}): {sw.Elapsed.TotalSeconds:F2} s, matched {outcome.MatchedBytes >> 20} MiB, sent {outcome.BytesSent} B, received {outcome.BytesReceived} B");
                    }
                    finally { Directory.Delete(dst, true); }
                }
            }
            finally { Directory.Delete(src, true); }
        }
    }
}
