using System;

namespace RealtimeMirror.Engine.Versions
{
    /// <summary>
    /// A replica whose uploads can keep the file they replace: <see cref="BeforeReplace"/> runs with the final relative
    /// path after the new content is complete under its temp name and right before the rename over the final name, so
    /// with versions on the final name is missing for one rename, not for a whole transfer. Null: nothing is kept.
    /// </summary>
    public interface IReplaceAside
    {
        Action<string> BeforeReplace { get; set; }
    }
}
