namespace Emulator.Core.Cpu.Jit;

/// <summary>
/// Marks a method as the block compiler's form of a handler: the same semantics, with the
/// operands the handler reads from its <see cref="DecodedOp"/> taken as parameters instead, so
/// the compiler can pass them as constants and the .NET JIT folds them. Parameters are matched
/// by name: <c>cpu</c>; <c>op</c> (the op itself, for slow paths); <c>nextRip</c> (the address of
/// the next instruction); <c>cc</c> (<see cref="Condition"/>); <c>insnCode</c> (the Iced code); <c>bitness</c> (the block's mode: 16, 32, 64); any other name is the
/// <see cref="DecodedOp"/> field of that name.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
internal sealed class JitTwinAttribute(string handler) : Attribute
{
    /// <summary>The handler method's name (all of its generic instantiations).</summary>
    public string Handler { get; } = handler;

    /// <summary>
    /// The twin never faults, never ends the block early and never reads RIP or the instruction
    /// count, so the compiler need not bring them up to date around it.
    /// </summary>
    public bool Pure { get; init; }

    /// <summary>Pure when the op has no memory operand (register forms of an r/m handler).</summary>
    public bool PureWithoutMemory { get; init; }

    /// <summary>The twin handles only ops with no memory operand; others keep the handler.</summary>
    public bool RegisterOnly { get; init; }

    /// <summary>The condition code passed as <c>cc</c> (Jcc twins).</summary>
    public int Condition { get; init; } = -1;
}
