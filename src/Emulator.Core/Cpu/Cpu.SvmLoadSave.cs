namespace Emulator.Core.Cpu;

/// <summary>
/// VMLOAD and VMSAVE (helper_vmload, helper_vmsave): the state VMRUN and #VMEXIT leave alone —
/// FS, GS, TR, LDTR with their hidden parts, KernelGsBase, STAR, LSTAR, CSTAR, SFMASK and the
/// SYSENTER MSRs — between the CPU and a VMCB, physically. And the SVM state a snapshot keeps.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>
    /// In a guest both always exit (virtual_vm_load_save_enabled: without nested paging in long
    /// mode there is no virtual VMLOAD/VMSAVE), after their own intercept check.
    /// </summary>
    private void CheckVmLoadSaveInGuest(uint exitCode)
    {
        CheckIntercept(exitCode);
        if (_svmGuest)
        {
            throw VmExit(exitCode, 0);
        }
    }

    internal void Vmload(ulong vmcb)
    {
        CheckVmLoadSaveInGuest(SvmExit.Vmload);
        _seg[Seg.Fs] = ReadSvmSegment(vmcb + Vmcb.Fs);
        _seg[Seg.Gs] = ReadSvmSegment(vmcb + Vmcb.Gs);
        _tr = ReadSvmSegment(vmcb + Vmcb.Tr);
        _ldtr = ReadSvmSegment(vmcb + Vmcb.Ldtr);
        Msrs.SetStored(MsrFile.KernelGsBase, Canonical(PhysRead(vmcb + Vmcb.KernelGsBase, 8)));
        Msrs.SetStored(MsrFile.LStar, PhysRead(vmcb + Vmcb.LStar, 8));
        Msrs.SetStored(MsrFile.CStar, PhysRead(vmcb + Vmcb.CStar, 8));
        Msrs.SetStored(MsrFile.SfMask, PhysRead(vmcb + Vmcb.SfMask, 8));
        Msrs.SetStored(MsrFile.Star, PhysRead(vmcb + Vmcb.Star, 8));

        // env->sysenter_cs is 32 bits wide: VMLOAD keeps the low half of the field (WRMSR keeps 16).
        Msrs.SetStored(MsrFile.SysenterCs, (uint)PhysRead(vmcb + Vmcb.SysenterCs, 8));
        Msrs.SetStored(MsrFile.SysenterEsp, PhysRead(vmcb + Vmcb.SysenterEsp, 8));
        Msrs.SetStored(MsrFile.SysenterEip, PhysRead(vmcb + Vmcb.SysenterEip, 8));
        UpdateMode();
        _exitBlock = true;
    }

    internal void Vmsave(ulong vmcb)
    {
        CheckVmLoadSaveInGuest(SvmExit.Vmsave);
        SaveSvmSegment(vmcb + Vmcb.Fs, _seg[Seg.Fs]);
        SaveSvmSegment(vmcb + Vmcb.Gs, _seg[Seg.Gs]);
        SaveSvmSegment(vmcb + Vmcb.Tr, _tr);
        SaveSvmSegment(vmcb + Vmcb.Ldtr, _ldtr);
        PhysWrite(vmcb + Vmcb.KernelGsBase, 8, Msrs.Stored(MsrFile.KernelGsBase));
        PhysWrite(vmcb + Vmcb.LStar, 8, Msrs.Stored(MsrFile.LStar));
        PhysWrite(vmcb + Vmcb.CStar, 8, Msrs.Stored(MsrFile.CStar));
        PhysWrite(vmcb + Vmcb.SfMask, 8, Msrs.Stored(MsrFile.SfMask));
        PhysWrite(vmcb + Vmcb.Star, 8, Msrs.Stored(MsrFile.Star));
        PhysWrite(vmcb + Vmcb.SysenterCs, 8, Msrs.Stored(MsrFile.SysenterCs));
        PhysWrite(vmcb + Vmcb.SysenterEsp, 8, Msrs.Stored(MsrFile.SysenterEsp));
        PhysWrite(vmcb + Vmcb.SysenterEip, 8, Msrs.Stored(MsrFile.SysenterEip));
    }

    /// <summary>The reset state (x86_cpu_reset: GIF set, not in a guest; the rest of env zeroed).</summary>
    private void ResetSvm() => RestoreSvm(null);

    internal SvmSnapshot? SaveSvm() => !_gif || _svmGuest || _vmcb != 0
        ? new SvmSnapshot(_svmGuest, _gif, _vmcb, _svmIntercepts, [_svmCrRead, _svmCrWrite, _svmDrRead, _svmDrWrite], _svmExceptions,
            _svmIntCtl, _svmVirtualMasking, _svmHostIf, _virqPending, _svmTscOffset)
        : null;

    internal void RestoreSvm(SvmSnapshot? s)
    {
        s ??= new SvmSnapshot(false, true, 0, 0, [0, 0, 0, 0], 0, 0, false, false, false, 0);
        (_svmGuest, _gif, _vmcb, _svmIntercepts, _svmExceptions) = (s.Guest, s.Gif, s.Vmcb, s.Intercepts, s.ExceptionIntercepts);
        (_svmCrRead, _svmCrWrite, _svmDrRead, _svmDrWrite) = (s.CrDrIntercepts[0], s.CrDrIntercepts[1], s.CrDrIntercepts[2], s.CrDrIntercepts[3]);
        (_svmIntCtl, _svmVirtualMasking, _svmHostIf, _virqPending, _svmTscOffset) = (s.IntCtl, s.VirtualMasking, s.HostIf, s.VirqPending, s.TscOffset);
        _shadowedInstruction = -1;
    }
}

/// <summary>
/// The SVM state of a CPU snapshot (null: GIF set, no guest, no VMCB used yet): guest mode, GIF,
/// the VMCB address, the intercept vectors (CR read, CR write, DR read, DR write), V_INTR control,
/// V_INTR_MASKING with the host's IF, a requested virtual interrupt and the TSC offset.
/// </summary>
public sealed record SvmSnapshot(
    bool Guest, bool Gif, ulong Vmcb, ulong Intercepts, ushort[] CrDrIntercepts, uint ExceptionIntercepts,
    uint IntCtl, bool VirtualMasking, bool HostIf, bool VirqPending, ulong TscOffset);
