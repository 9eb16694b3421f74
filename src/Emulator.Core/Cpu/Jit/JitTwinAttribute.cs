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

    /// <summary>The condition code passed as <c>cc</c> (Jcc twins).</summary>
    public int Condition { get; init; } = -1;

    /// <summary>
    /// What the twin does to the six status flags (<see cref="FlagLiveness"/>; what it reads comes
    /// from Iced's <c>RflagsRead</c> for the decoded instruction). Every twin states it: a test
    /// fails on <see cref="TwinFlags.Unknown"/> and checks the claim against Iced's
    /// <c>RflagsModified</c> for each instruction the differential tests compile.
    /// </summary>
    public TwinFlags FlagsWritten { get; init; }
}

/// <summary>What a twin writes of CF, PF, AF, ZF, SF and OF when it records flags.</summary>
internal enum TwinFlags
{
    /// <summary>Not stated: flag liveness treats the instruction as reading the flags.</summary>
    Unknown,

    /// <summary>Writes none of them (MOV, LEA, MOVZX, SETcc, branches, stack forms).</summary>
    None,

    /// <summary>Replaces all six, whatever they were (ADD, SUB, AND, XOR, CMP, TEST, IMUL).</summary>
    All,

    /// <summary>Replaces all six when the count is a non-zero constant; a count of 0 changes none (SHL, SHR, SAR).</summary>
    AllForNonZeroCount,

    /// <summary>Writes all but CF, which it keeps (INC, DEC): the flags before it stay visible.</summary>
    AllButCarry,
}
