// SMART on QEMU 7.2's ide-hd (hw/ide/core.c cmd_smart, smart_attributes): the key C24F in LBA
// high/mid, enable/disable, attribute autosave, RETURN STATUS (no threshold exceeded), READ DATA
// and READ THRESHOLDS with QEMU's seven attributes, the summary error log and self-test log, and
// EXECUTE OFFLINE IMMEDIATE recording self-tests that pass at once. QEMU sets SMART up enabled
// when the drive is created and does not keep it across power cycles; a reset keeps it.
namespace Emulator.Core.Devices.Ide;

public sealed partial class IdeDevice
{
    private const int SmartSelfTestEntrySize = 24;
    private const int SmartMaxSelfTests = 21;

    /// <summary>QEMU smart_attributes: id, flags, hflags, value, worst, raw (6 bytes), threshold.</summary>
    private static readonly byte[][] SmartAttributes =
    [
        [0x01, 0x03, 0x00, 0x64, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06],
        [0x03, 0x03, 0x00, 0x64, 0x64, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
        [0x04, 0x02, 0x00, 0x64, 0x64, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14],
        [0x05, 0x03, 0x00, 0x64, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x24],
        [0x09, 0x03, 0x00, 0x64, 0x64, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
        [0x0C, 0x03, 0x00, 0x64, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
        [190, 0x03, 0x00, 0x45, 0x45, 0x1F, 0x00, 0x1F, 0x1F, 0x00, 0x00, 0x32],
    ];

    private readonly byte[] _smartSelfTests = new byte[SectorSize];
    private bool _smartEnabled;
    private bool _smartAutosave;
    private int _smartSelfTestCount;

    private void ResetSmart()
    {
        _smartEnabled = true;
        _smartAutosave = true;
        _smartSelfTestCount = 0;
        Array.Clear(_smartSelfTests);
    }

    private bool SmartCommand()
    {
        const byte readData = 0xD0, readThresholds = 0xD1, autosave = 0xD2, executeOffline = 0xD4, readLog = 0xD5;
        const byte enable = 0xD8, disable = 0xD9, returnStatus = 0xDA;
        if (LbaHigh != 0xC2 || LbaMid != 0x4F || (!_smartEnabled && Features != enable))
        {
            Abort();
            return true;
        }

        switch (Features)
        {
            case disable:
                _smartEnabled = false;
                return true;
            case enable:
                _smartEnabled = true;
                return true;
            case autosave when LbaLow is 0x00 or 0xF1:
                _smartAutosave = LbaLow == 0xF1;
                return true;
            case returnStatus:
                // No threshold exceeded: the key stays C24F.
                return true;
            case readThresholds:
                return SendSmartPage(b =>
                {
                    for (int n = 0; n < SmartAttributes.Length; n++)
                    {
                        b[2 + (n * 12)] = SmartAttributes[n][0];
                        b[3 + (n * 12)] = SmartAttributes[n][11];
                    }
                });
            case readData:
                return SendSmartPage(FillSmartData);
            case readLog when LbaLow is 0x01 or 0x06:
                return SendSmartPage(b =>
                {
                    if (LbaLow == 0x06 && _smartSelfTestCount > 0)
                    {
                        b[508] = (byte)_smartSelfTestCount;
                        _smartSelfTests.AsSpan(2, 504).CopyTo(b[2..]);
                    }
                });
            case executeOffline when LbaLow <= 2:
                _smartSelfTestCount = (_smartSelfTestCount % SmartMaxSelfTests) + 1;
                int at = 2 + ((_smartSelfTestCount - 1) * SmartSelfTestEntrySize);
                _smartSelfTests[at] = LbaLow;
                _smartSelfTests[at + 1] = 0x00;  // finished without error
                _smartSelfTests[at + 2] = 0x34;  // power-on hours
                _smartSelfTests[at + 3] = 0x12;
                return true;
        }

        Abort();
        return true;
    }

    private void FillSmartData(Span<byte> b)
    {
        for (int n = 0; n < SmartAttributes.Length; n++)
        {
            SmartAttributes[n].AsSpan(0, 11).CopyTo(b[(2 + (n * 12))..]);
        }

        b[362] = (byte)(0x02 | (_smartAutosave ? 0x80 : 0x00));
        b[363] = _smartSelfTestCount == 0 ? (byte)0 : _smartSelfTests[3 + ((_smartSelfTestCount - 1) * SmartSelfTestEntrySize)];
        b[364] = 0x20;
        b[365] = 0x01;
        b[367] = (1 << 4) | (1 << 3) | 1;
        b[368] = 0x03;
        b[370] = 0x01;
        b[372] = 0x02;
        b[373] = 0x36;
        b[374] = 0x01;
    }

    /// <summary>A 512-byte SMART page: version 1, the content, a checksum making the bytes sum to 0; sent by PIO.</summary>
    private bool SendSmartPage(Action<Span<byte>> fill)
    {
        var b = _buffer.AsSpan(0, SectorSize);
        b.Clear();
        b[0] = 0x01;
        fill(b);
        byte sum = 0;
        for (int i = 0; i < SectorSize - 1; i++)
        {
            sum += b[i];
        }

        b[SectorSize - 1] = (byte)(0x100 - sum);
        Status = StatusReady | StatusSeekComplete;
        TransferStart(0, SectorSize, TransferEnd.Stop);
        _channel.RaiseInterrupt();
        return false;
    }
}
