using System.Reflection;
using System.Reflection.Emit;

namespace Emulator.Core.Cpu.Jit;

/// <summary>
/// Compiles a hot block into one .NET method. Each instruction with a twin
/// (<see cref="JitTwinAttribute"/>) becomes a call of the twin with its operands as constants,
/// which the .NET JIT inlines and folds; any other instruction calls its handler through the
/// handler's function pointer, exactly as the interpreter does.
/// <para>
/// The compiled method has the interpreter's effect for the whole block, in the same order:
/// RIP and the instruction count are brought up to date before every instruction that can fault,
/// end the block or read them, and at the end; pure instructions in between (register arithmetic,
/// moves, branches) skip that bookkeeping because nothing can observe it. So instruction counts,
/// virtual time, faults and guest state are the interpreter's. Two more things the interpreter
/// cannot do: a block that jumps to its own start runs again inside the method while the run loop
/// would run it (<see cref="Cpu.CanRunAgain"/>), and flags nothing can observe are not recorded
/// (<see cref="FlagLiveness"/>).
/// </para>
/// </summary>
internal static unsafe class BlockCompiler
{
    private static readonly FieldInfo RipField = CpuField(nameof(Cpu._rip));
    private static readonly FieldInfo NextRipField = CpuField(nameof(Cpu._nextRip));
    private static readonly FieldInfo ExitBlockField = CpuField(nameof(Cpu._exitBlock));
    private static readonly MethodInfo GetCount = typeof(Cpu).GetProperty(nameof(Cpu.InstructionCount))!.GetGetMethod(nonPublic: true)!;
    private static readonly MethodInfo SetCount = typeof(Cpu).GetProperty(nameof(Cpu.InstructionCount))!.GetSetMethod(nonPublic: true)!;
    private static readonly Type[] HandlerParameters = [typeof(Cpu), typeof(DecodedOp).MakeByRefType()];
    // The block itself is the first parameter: the delegate is closed over it, which the runtime
    // calls directly (an open delegate to a static method goes through a shuffle thunk per call).
    private static readonly Type[] BlockParameters = [typeof(Block), typeof(Cpu), typeof(DecodedOp[]), typeof(long), typeof(int)];
    private static readonly FieldInfo GenerationField = CpuField(nameof(Cpu._codeGeneration));
    private static readonly MethodInfo CanRunAgain = typeof(Cpu).GetMethod(nameof(Cpu.CanRunAgain), BindingFlags.Instance | BindingFlags.NonPublic)!;

    /// <summary>
    /// The names a twin's parameter may have besides the <see cref="DecodedOp"/> fields
    /// (<see cref="JitTwinAttribute"/> says what each one is).
    /// </summary>
    internal static readonly string[] ContextParameters = ["cpu", "op", "nextRip", "cc", "recordFlags", "bitness", "insnCode"];

    /// <summary>
    /// When set (by a test, on the thread that compiles), every twin call this thread emits, with
    /// the instruction it stands for: the differential tests prove with it that every twin runs
    /// compiled against its handler interpreted, and check each twin's flag claim against Iced.
    /// </summary>
    [ThreadStatic]
    internal static List<(MethodInfo Twin, JitTwinAttribute Attribute, Iced.Intel.Instruction Insn, bool RecordsFlags)>? EmittedTwins;

    public static CompiledBlock Compile(Block block)
    {
        var method = new DynamicMethod($"block_{block.PhysStart:X}", typeof(int), BlockParameters, typeof(Cpu).Module, skipVisibility: true);
        var il = method.GetILGenerator();
        var e = new Emitter(il);
        e.Prologue();
        var twins = new (MethodInfo Method, JitTwinAttribute Attribute)?[block.Count];
        var pures = new bool[block.Count];
        for (int i = 0; i < block.Count; i++)
        {
            twins[i] = HandlerMethods.FindTwin((nint)block.Ops[i].Handler);
            pures[i] = twins[i] is { } t && IsPure(t.Attribute, ref block.Ops[i]);
        }

        var flagsDead = FlagLiveness.DeadFlags(block, twins, pures);
        int offset = 0;
        bool lastImpure = false;
        for (int i = 0; i < block.Count; i++)
        {
            ref var op = ref block.Ops[i];
            bool last = i == block.Count - 1;
            bool branch = last && block.LastIsBranch;
            var twin = twins[i];
            bool pure = pures[i];
            if (!pure)
            {
                e.Sync(offset, i);
            }

            if (branch)
            {
                // _nextRip = address of the next instruction: the fall-through a branch may replace.
                il.Emit(OpCodes.Ldarg_1);
                e.LoadRip(offset + op.Length);
                il.Emit(OpCodes.Stfld, NextRipField);
            }

            if (twin is { } t)
            {
                EmittedTwins?.Add((t.Method, t.Attribute, op.Insn, !flagsDead[i]));
                e.CallTwin(t.Method, t.Attribute, ref op, i, offset + op.Length, block.Bitness, recordFlags: !flagsDead[i]);
            }
            else
            {
                e.CallHandler((nint)op.Handler, i);
            }

            if (branch)
            {
                il.Emit(OpCodes.Ldarg_1);
                il.Emit(OpCodes.Ldarg_1);
                il.Emit(OpCodes.Ldfld, NextRipField);
                il.Emit(OpCodes.Stfld, RipField);
                e.StoreCount(i + 1);
                if (LoopsOnItself(block, ref op, offset))
                {
                    e.LoopIfAgain(block.Count);
                }

                e.Return();
                return Finish(method, block);
            }

            if (!pure)
            {
                // As the interpreter: RIP advances by the length whatever the handler did, then
                // an early block exit returns with everything up to date.
                e.AdvanceAfter(op.Length, i + 1, offset + op.Length);
                if (!last)
                {
                    e.ReturnIfExit();
                }
            }

            offset += op.Length;
            lastImpure = !pure;
        }

        if (!lastImpure)
        {
            e.Sync(offset, block.Count);
        }

        e.Return();
        return Finish(method, block);
    }

    private static CompiledBlock Finish(DynamicMethod method, Block block) => (CompiledBlock)method.CreateDelegate(typeof(CompiledBlock), block);

    /// <summary>A relative jump at the end of the block whose target is the block's own start.</summary>
    private static bool LoopsOnItself(Block block, ref DecodedOp op, int offset) =>
        !block.BreakpointAtStart && op.Kind0 == OperandKind.Immediate &&
        op.Insn.FlowControl is Iced.Intel.FlowControl.ConditionalBranch or Iced.Intel.FlowControl.UnconditionalBranch &&
        (long)op.Disp == -(offset + op.Length);

    private static bool IsPure(JitTwinAttribute a, ref DecodedOp op) =>
        a.Pure || (a.PureWithoutMemory && !HasMemoryOperand(ref op));

    internal static bool HasMemoryOperand(ref DecodedOp op) =>
        op.Kind0 == OperandKind.Memory || op.Kind1 == OperandKind.Memory || op.Kind2 == OperandKind.Memory;

    private static FieldInfo CpuField(string name) =>
        typeof(Cpu).GetField(name, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
        ?? throw new InvalidOperationException($"Cpu has no field {name}");

    /// <summary>
    /// IL for one block. Locals <c>rip0</c> and <c>count0</c> hold RIP and the instruction count
    /// as they were at the block's start (re-derived after every impure instruction, the way the
    /// interpreter advances them), so the values at instruction i are constants away.
    /// </summary>
    private sealed class Emitter(ILGenerator il)
    {
        private LocalBuilder _ops = null!;
        private LocalBuilder _rip0 = null!;
        private LocalBuilder _count0 = null!;
        private LocalBuilder _runs = null!;
        private LocalBuilder _generation = null!;
        private Label _start;

        public void Prologue()
        {
            // A null CPU is the background compiler's warm-up call: return before touching anything.
            var body = il.DefineLabel();
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Brtrue, body);
            il.Emit(OpCodes.Ldc_I4_0);
            il.Emit(OpCodes.Ret);
            il.MarkLabel(body);

            _ops = il.DeclareLocal(typeof(DecodedOp).MakeByRefType());
            _rip0 = il.DeclareLocal(typeof(ulong));
            _count0 = il.DeclareLocal(typeof(long));
            _runs = il.DeclareLocal(typeof(int));
            _generation = il.DeclareLocal(typeof(long));
            il.Emit(OpCodes.Ldarg_2);
            il.Emit(OpCodes.Ldc_I4_0);
            il.Emit(OpCodes.Ldelema, typeof(DecodedOp));
            il.Emit(OpCodes.Stloc, _ops);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldfld, GenerationField);
            il.Emit(OpCodes.Stloc, _generation);

            // A block that loops on itself comes back here for each further run.
            _start = il.DefineLabel();
            il.MarkLabel(_start);
            il.Emit(OpCodes.Ldloc, _runs);
            il.Emit(OpCodes.Ldc_I4_1);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Stloc, _runs);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldfld, RipField);
            il.Emit(OpCodes.Stloc, _rip0);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Call, GetCount);
            il.Emit(OpCodes.Stloc, _count0);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldc_I4_0);
            il.Emit(OpCodes.Stfld, ExitBlockField);
        }

        /// <summary>Pushes rip0 + <paramref name="offset"/>.</summary>
        public void LoadRip(int offset)
        {
            il.Emit(OpCodes.Ldloc, _rip0);
            if (offset != 0)
            {
                il.Emit(OpCodes.Ldc_I8, (long)offset);
                il.Emit(OpCodes.Add);
            }
        }

        /// <summary>cpu._rip = rip0 + offset; cpu.InstructionCount = count0 + executed.</summary>
        public void Sync(int offset, int executed)
        {
            il.Emit(OpCodes.Ldarg_1);
            LoadRip(offset);
            il.Emit(OpCodes.Stfld, RipField);
            StoreCount(executed);
        }

        public void StoreCount(int executed)
        {
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldloc, _count0);
            il.Emit(OpCodes.Ldc_I8, (long)executed);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Call, SetCount);
        }

        /// <summary>
        /// After an impure instruction: RIP += length and count + 1 (the interpreter's relative
        /// step), then rip0/count0 re-derived from them for the instructions that follow.
        /// </summary>
        public void AdvanceAfter(int length, int executed, int offsetAfter)
        {
            // cpu._rip += length; rip0 = cpu._rip - offsetAfter
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldfld, RipField);
            il.Emit(OpCodes.Ldc_I8, (long)length);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Stloc, _rip0);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldloc, _rip0);
            il.Emit(OpCodes.Stfld, RipField);
            il.Emit(OpCodes.Ldloc, _rip0);
            il.Emit(OpCodes.Ldc_I8, (long)offsetAfter);
            il.Emit(OpCodes.Sub);
            il.Emit(OpCodes.Stloc, _rip0);

            // cpu.InstructionCount += 1; count0 = cpu.InstructionCount - executed
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Call, GetCount);
            il.Emit(OpCodes.Ldc_I8, 1L);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Stloc, _count0);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldloc, _count0);
            il.Emit(OpCodes.Call, SetCount);
            il.Emit(OpCodes.Ldloc, _count0);
            il.Emit(OpCodes.Ldc_I8, (long)executed);
            il.Emit(OpCodes.Sub);
            il.Emit(OpCodes.Stloc, _count0);
        }

        public void ReturnIfExit()
        {
            var next = il.DefineLabel();
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldfld, ExitBlockField);
            il.Emit(OpCodes.Brfalse, next);
            Return();
            il.MarkLabel(next);
        }

        /// <summary>return runs;</summary>
        public void Return()
        {
            il.Emit(OpCodes.Ldloc, _runs);
            il.Emit(OpCodes.Ret);
        }

        /// <summary>
        /// At the end of a block that jumps to its own start: run it again when the branch was
        /// taken, the slice has runs left and <see cref="Cpu.CanRunAgain"/> (the run loop's own
        /// checks) agrees.
        /// </summary>
        public void LoopIfAgain(int count)
        {
            var done = il.DefineLabel();
            il.Emit(OpCodes.Ldloc, _runs);
            il.Emit(OpCodes.Ldarg_S, (byte)4);
            il.Emit(OpCodes.Bge, done);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldfld, RipField);
            il.Emit(OpCodes.Ldloc, _rip0);
            il.Emit(OpCodes.Bne_Un, done);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldarg_3);
            il.Emit(OpCodes.Ldc_I4, count);
            il.Emit(OpCodes.Ldloc, _generation);
            il.Emit(OpCodes.Call, CanRunAgain);
            il.Emit(OpCodes.Brfalse, done);
            il.Emit(OpCodes.Br, _start);
            il.MarkLabel(done);
        }

        public void LoadOpAddress(int index)
        {
            il.Emit(OpCodes.Ldloc, _ops);
            if (index > 0)
            {
                il.Emit(OpCodes.Ldc_I4, index);
                il.Emit(OpCodes.Sizeof, typeof(DecodedOp));
                il.Emit(OpCodes.Mul);
                il.Emit(OpCodes.Add);
            }
        }

        public void CallHandler(nint handler, int index)
        {
            il.Emit(OpCodes.Ldarg_1);
            LoadOpAddress(index);
            il.Emit(OpCodes.Ldc_I8, (long)handler);
            il.Emit(OpCodes.Conv_I);
            il.EmitCalli(OpCodes.Calli, System.Reflection.CallingConventions.Standard, typeof(void), HandlerParameters, null);
        }

        public void CallTwin(MethodInfo twin, JitTwinAttribute attribute, ref DecodedOp op, int index, int nextOffset, int bitness, bool recordFlags)
        {
            foreach (var p in twin.GetParameters())
            {
                switch (p.Name)
                {
                    case "cpu":
                        il.Emit(OpCodes.Ldarg_1);
                        break;
                    case "op":
                        LoadOpAddress(index);
                        break;
                    case "nextRip":
                        LoadRip(nextOffset);
                        break;
                    case "cc":
                        il.Emit(OpCodes.Ldc_I4, attribute.Condition);
                        break;
                    case "recordFlags":
                        il.Emit(recordFlags ? OpCodes.Ldc_I4_1 : OpCodes.Ldc_I4_0);
                        break;
                    case "bitness":
                        il.Emit(OpCodes.Ldc_I4, bitness);
                        break;
                    case "insnCode":
                        il.Emit(OpCodes.Ldc_I4, (int)op.Code);
                        break;
                    default:
                        EmitConstant(p.ParameterType, OpField(ref op, p.Name!));
                        break;
                }
            }

            il.Emit(OpCodes.Call, twin);
        }

        private void EmitConstant(Type type, ulong value)
        {
            if (type == typeof(ulong) || type == typeof(long))
            {
                il.Emit(OpCodes.Ldc_I8, (long)value);
            }
            else
            {
                il.Emit(OpCodes.Ldc_I4, (int)value);
            }
        }

        private static ulong OpField(ref DecodedOp op, string name) => name switch
        {
            nameof(DecodedOp.Imm) => op.Imm,
            nameof(DecodedOp.Disp) => op.Disp,
            nameof(DecodedOp.Length) => op.Length,
            nameof(DecodedOp.OpSize) => op.OpSize,
            nameof(DecodedOp.AddrSize) => op.AddrSize,
            nameof(DecodedOp.Kind0) => (ulong)op.Kind0,
            nameof(DecodedOp.Kind1) => (ulong)op.Kind1,
            nameof(DecodedOp.Kind2) => (ulong)op.Kind2,
            nameof(DecodedOp.Reg0) => op.Reg0,
            nameof(DecodedOp.Reg1) => op.Reg1,
            nameof(DecodedOp.Reg2) => op.Reg2,
            nameof(DecodedOp.MemBase) => op.MemBase,
            nameof(DecodedOp.MemIndex) => op.MemIndex,
            nameof(DecodedOp.MemScaleShift) => op.MemScaleShift,
            nameof(DecodedOp.EaMaskShift) => op.EaMaskShift,
            nameof(DecodedOp.MemSeg) => op.MemSeg,
            nameof(DecodedOp.MemSize) => op.MemSize,
            nameof(DecodedOp.Op1Size) => op.Op1Size,
            _ => throw new InvalidOperationException($"twin parameter {name} names no DecodedOp field"),
        };
    }
}
