using System;
using System.Threading;
using RealtimeMirror.Engine.Service;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Service
{
    /// <summary>The periodic whole-tree compare, on a fake clock.</summary>
    public class VerifyScheduleTests
    {
        private static readonly DateTime T0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        [Fact]
        public void Is_due_once_per_interval()
        {
            var v = new VerifySchedule(TimeSpan.FromMinutes(10), T0);
            Assert.False(v.TakeDue(T0.AddMinutes(9)));
            Assert.Equal(TimeSpan.FromMinutes(1), v.WaitFor(T0.AddMinutes(9)));
            Assert.True(v.TakeDue(T0.AddMinutes(10)));
            Assert.False(v.TakeDue(T0.AddMinutes(11)));
            // Late (the target was down): one verify, and the next an interval after it, not a burst to catch up.
            Assert.True(v.TakeDue(T0.AddMinutes(45)));
            Assert.False(v.TakeDue(T0.AddMinutes(54)));
            Assert.True(v.TakeDue(T0.AddMinutes(55)));
        }

        [Fact]
        public void Zero_disables_it()
        {
            var v = new VerifySchedule(TimeSpan.Zero, T0);
            Assert.False(v.Enabled);
            Assert.False(v.TakeDue(T0.AddYears(1)));
            Assert.Equal(Timeout.InfiniteTimeSpan, v.WaitFor(T0));
        }

        [Fact]
        public void A_long_interval_never_overflows_the_wait()
        {
            var v = new VerifySchedule(TimeSpan.FromDays(90), T0);
            Assert.Equal(TimeSpan.FromHours(1), v.WaitFor(T0));
        }
    }
}
