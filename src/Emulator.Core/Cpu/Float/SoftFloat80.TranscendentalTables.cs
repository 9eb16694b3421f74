namespace Emulator.Core.Cpu.Float;

/// <summary>
/// The constants of QEMU 7.2's x87 transcendentals (target/i386/tcg/fpu_helper.c, above
/// helper_f2xm1, helper_fpatan and helper_fyl2x_common): 128-bit significands of ln 2, log2 e and
/// multiples of π, the polynomial coefficients and the tables of 2^t and arctan(t). Copied value
/// for value: the results are only bit-exact with QEMU's if every constant is its.
/// </summary>
public static partial class SoftFloat80
{
    /// <summary>ln 2 as a 128-bit significand (value 2·ln 2 read with the integer bit at 127).</summary>
    private static readonly UInt128 Ln2Significand = new(0xB17217F7D1CF79AB, 0xC9E3B39803F2F6AF);

    /// <summary>log2 e as a 128-bit significand.</summary>
    private static readonly UInt128 Log2ESignificand = new(0xB8AA3B295C17F0BB, 0xBE87FED0691D3E89);

    /// <summary>π/4, π/2, 3π/4 and π with 128-bit significands (π/4, π/2 and π share theirs).</summary>
    private static readonly UInt128 PiSignificand = new(0xC90FDAA22168C234, 0xC4C6628B80DC1CD1);
    private static readonly UInt128 ThreeQuarterPiSignificand = new(0x96CBE3F9990E91A7, 0x9394C9E8A0A5159D);
    private const int QuarterPiExponent = 0x3FFE, HalfPiExponent = 0x3FFF, ThreeQuarterPiExponent = 0x4000, PiExponent = 0x4000;

    /// <summary>(2^x − 1)/x on [−1/64, 1/64]: the leading coefficient split into a high and a low part, then x^1..x^7.</summary>
    private static readonly Float80 Exp2M1Lead = new(0xB17217F7D1CF79AC, 0x3FFE);
    private static readonly Float80[] Exp2M1Coefficients =
    [
        new(0xD87EDABF495B3762, 0xBFBC),
        new(0xF5FDEFFC162C7543, 0x3FFC),
        new(0xE35846B82505FCC7, 0x3FFA),
        new(0x9D955B7DD273B899, 0x3FF8),
        new(0xAEC3FF3C4EF4AC0C, 0x3FF5),
        new(0xA184897C3A7F0DE9, 0x3FF2),
        new(0xFFE634D0EC30D504, 0x3FEE),
        new(0xB160111D2DB515E4, 0x3FEB),
    ];

    /// <summary>log2((1+x)/(1−x)) on [2√2−3, 3−2√2], odd powers: the leading coefficient's high part, then its low part and x^2..x^18's.</summary>
    private static readonly Float80 Log2Lead = new(0xB8AA3B295C17F0BC, 0x4000);
    private static readonly Float80[] Log2Coefficients =
    [
        new(0x834972FE2D7BAB1B, 0xBFBF),
        new(0xF6384EE1D01FEBB8, 0x3FFE),
        new(0x93BB62877CDFA2E3, 0x3FFE),
        new(0xD30BB153D808F269, 0x3FFD),
        new(0xA42589EAF451499E, 0x3FFD),
        new(0x864D42C0F8F17517, 0x3FFD),
        new(0xE3476578ADF26272, 0x3FFC),
        new(0xC506C5F874E6D80F, 0x3FFC),
        new(0xAC5CF50CC57D6372, 0x3FFC),
        new(0xB1ED0066D971A103, 0x3FFC),
    ];

    /// <summary>arctan(x) on [−1/16, 1/16], odd powers: the coefficients of x, x^3, …, x^13 (the first exactly 1).</summary>
    private static readonly Float80[] AtanCoefficients =
    [
        new(0x8000000000000000, 0x3FFF),
        new(0xAAAAAAAAAAAAAA43, 0xBFFD),
        new(0xCCCCCCCCCCBFE4F8, 0x3FFC),
        new(0x92492491FBAB2E66, 0xBFFC),
        new(0xE38E372881EA1E0B, 0x3FFB),
        new(0xBA2C0104BBDD0615, 0xBFFB),
        new(0x9BAF7EBF898B42EF, 0x3FFB),
    ];

    /// <summary>One row of QEMU's f2xm1_table: t near k/32 (k = −32..32) chosen so that 2^t and 2^t − 1 are nearly exact floatx80 values.</summary>
    private readonly record struct Exp2Entry(Float80 T, Float80 Exp2, Float80 Exp2M1);

    private static readonly Exp2Entry[] Exp2Table =
    [
        new(new(0x8000000000000000, 0xBFFF), new(0x8000000000000000, 0x3FFE), new(0x8000000000000000, 0xBFFE)),
        new(new(0xF800000000002E7E, 0xBFFE), new(0x82CD8698AC2B9160, 0x3FFE), new(0xFA64F2CEA7A8DD40, 0xBFFD)),
        new(new(0xEFFFFFFFFFFFE960, 0xBFFE), new(0x85AAC367CC488345, 0x3FFE), new(0xF4AA7930676EF976, 0xBFFD)),
        new(new(0xE800000000006F10, 0xBFFE), new(0x88980E8092DA5C14, 0x3FFE), new(0xEECFE2FEDA4B47D8, 0xBFFD)),
        new(new(0xE000000000008A45, 0xBFFE), new(0x8B95C1E3EA8BA2A5, 0x3FFE), new(0xE8D47C382AE8BAB6, 0xBFFD)),
        new(new(0xD7FFFFFFFFFF8A9E, 0xBFFE), new(0x8EA4398B45CD8116, 0x3FFE), new(0xE2B78CE97464FDD4, 0xBFFD)),
        new(new(0xD0000000000019A0, 0xBFFE), new(0x91C3D373AB11B919, 0x3FFE), new(0xDC785918A9DC8DCE, 0xBFFD)),
        new(new(0xC7FFFFFFFFFF14DF, 0xBFFE), new(0x94F4EFA8FEF76836, 0x3FFE), new(0xD61620AE02112F94, 0xBFFD)),
        new(new(0xC000000000006530, 0xBFFE), new(0x9837F0518DB87FBB, 0x3FFE), new(0xCF901F5CE48F008A, 0xBFFD)),
        new(new(0xB7FFFFFFFFFF1723, 0xBFFE), new(0x9B8D39B9D54EB74C, 0x3FFE), new(0xC8E58C8C55629168, 0xBFFD)),
        new(new(0xB00000000000B5E1, 0xBFFE), new(0x9EF5326091A0C366, 0x3FFE), new(0xC2159B3EDCBE7934, 0xBFFD)),
        new(new(0xA800000000006F8A, 0xBFFE), new(0xA27043030C49370A, 0x3FFE), new(0xBB1F79F9E76D91EC, 0xBFFD)),
        new(new(0x9FFFFFFFFFFF816A, 0xBFFE), new(0xA5FED6A9B15171CF, 0x3FFE), new(0xB40252AC9D5D1C62, 0xBFFD)),
        new(new(0x97FFFFFFFFFFB621, 0xBFFE), new(0xA9A15AB4EA7C30E6, 0x3FFE), new(0xACBD4A962B079E34, 0xBFFD)),
        new(new(0x8FFFFFFFFFFF162B, 0xBFFE), new(0xAD583EEA42A1B886, 0x3FFE), new(0xA54F822B7ABC8EF4, 0xBFFD)),
        new(new(0x87FFFFFFFFFF4D34, 0xBFFE), new(0xB123F581D2AC7B51, 0x3FFE), new(0x9DB814FC5AA7095E, 0xBFFD)),
        new(new(0x800000000000227D, 0xBFFE), new(0xB504F333F9DE539D, 0x3FFE), new(0x95F619980C4358C6, 0xBFFD)),
        new(new(0xEFFFFFFFFFFF3978, 0xBFFD), new(0xB8FBAF4762FBD0A1, 0x3FFE), new(0x8E08A1713A085EBE, 0xBFFD)),
        new(new(0xE00000000000DF81, 0xBFFD), new(0xBD08A39F580BFD8C, 0x3FFE), new(0x85EEB8C14FE804E8, 0xBFFD)),
        new(new(0xD00000000000BCCF, 0xBFFD), new(0xC12C4CCA667062F6, 0x3FFE), new(0xFB4ECCD6663E7428, 0xBFFC)),
        new(new(0xC00000000000EFF0, 0xBFFD), new(0xC5672A1155069ABE, 0x3FFE), new(0xEA6357BAABE59508, 0xBFFC)),
        new(new(0xB000000000000FE6, 0xBFFD), new(0xC9B9BD866E2F234B, 0x3FFE), new(0xD91909E6474372D4, 0xBFFC)),
        new(new(0x9FFFFFFFFFFF2172, 0xBFFD), new(0xCE248C151F84BF00, 0x3FFE), new(0xC76DCFAB81ED0400, 0xBFFC)),
        new(new(0x8FFFFFFFFFFFAFFF, 0xBFFD), new(0xD2A81D91F12AFB2B, 0x3FFE), new(0xB55F89B83B541354, 0xBFFC)),
        new(new(0xFFFFFFFFFFFF81A3, 0xBFFC), new(0xD744FCCAD69D7D5E, 0x3FFE), new(0xA2EC0CD4A58A0A88, 0xBFFC)),
        new(new(0xDFFFFFFFFFFF1568, 0xBFFC), new(0xDBFBB797DAF25A44, 0x3FFE), new(0x901121A0943696F0, 0xBFFC)),
        new(new(0xBFFFFFFFFFFF68DA, 0xBFFC), new(0xE0CCDEEC2A94F811, 0x3FFE), new(0xF999089EAB583F78, 0xBFFB)),
        new(new(0x9FFFFFFFFFFF4690, 0xBFFC), new(0xE5B906E77C83657E, 0x3FFE), new(0xD237C8C41BE4D410, 0xBFFB)),
        new(new(0xFFFFFFFFFFFF8AEE, 0xBFFB), new(0xEAC0C6E7DD24427C, 0x3FFE), new(0xA9F9C8C116DDEC20, 0xBFFB)),
        new(new(0xBFFFFFFFFFFF2D18, 0xBFFB), new(0xEFE4B99BDCDB06EB, 0x3FFE), new(0x80DA33211927C8A8, 0xBFFB)),
        new(new(0xFFFFFFFFFFFF8CCB, 0xBFFA), new(0xF5257D152486D0F4, 0x3FFE), new(0xADA82EADB792F0C0, 0xBFFA)),
        new(new(0xFFFFFFFFFFFF11FE, 0xBFF9), new(0xFA83B2DB722A0846, 0x3FFE), new(0xAF89A491BABEF740, 0xBFF9)),
        new(new(0x0000000000000000, 0x0000), new(0x8000000000000000, 0x3FFF), new(0x0000000000000000, 0x0000)),
        new(new(0xFFFFFFFFFFFF2680, 0x3FF9), new(0x82CD8698AC2B9F6F, 0x3FFF), new(0xB361A62B0AE7DBC0, 0x3FF9)),
        new(new(0x800000000000B500, 0x3FFB), new(0x85AAC367CC488345, 0x3FFF), new(0xB5586CF9891068A0, 0x3FFA)),
        new(new(0xBFFFFFFFFFFF4B67, 0x3FFB), new(0x88980E8092DA7CCE, 0x3FFF), new(0x8980E8092DA7CCE0, 0x3FFB)),
        new(new(0xFFFFFFFFFFFFFF57, 0x3FFB), new(0x8B95C1E3EA8BD6DF, 0x3FFF), new(0xB95C1E3EA8BD6DF0, 0x3FFB)),
        new(new(0x9FFFFFFFFFFF811F, 0x3FFC), new(0x8EA4398B45CD4780, 0x3FFF), new(0xEA4398B45CD47800, 0x3FFB)),
        new(new(0xBFFFFFFFFFFF9980, 0x3FFC), new(0x91C3D373AB11B919, 0x3FFF), new(0x8E1E9B9D588DC8C8, 0x3FFC)),
        new(new(0xDFFFFFFFFFFFF631, 0x3FFC), new(0x94F4EFA8FEF70864, 0x3FFF), new(0xA7A77D47F7B84320, 0x3FFC)),
        new(new(0xFFFFFFFFFFFF2499, 0x3FFC), new(0x9837F0518DB892D4, 0x3FFF), new(0xC1BF828C6DC496A0, 0x3FFC)),
        new(new(0x8FFFFFFFFFFF80FB, 0x3FFD), new(0x9B8D39B9D54E3A79, 0x3FFF), new(0xDC69CDCEAA71D3C8, 0x3FFC)),
        new(new(0x9FFFFFFFFFFFBC23, 0x3FFD), new(0x9EF5326091A10313, 0x3FFF), new(0xF7A993048D081898, 0x3FFC)),
        new(new(0xAFFFFFFFFFFF20EC, 0x3FFD), new(0xA27043030C49370A, 0x3FFF), new(0x89C10C0C3124DC28, 0x3FFD)),
        new(new(0xC00000000000FD2C, 0x3FFD), new(0xA5FED6A9B15171CF, 0x3FFF), new(0x97FB5AA6C545C73C, 0x3FFD)),
        new(new(0xD0000000000093BE, 0x3FFD), new(0xA9A15AB4EA7C30E6, 0x3FFF), new(0xA6856AD3A9F0C398, 0x3FFD)),
        new(new(0xE00000000000C2AE, 0x3FFD), new(0xAD583EEA42A17876, 0x3FFF), new(0xB560FBA90A85E1D8, 0x3FFD)),
        new(new(0xEFFFFFFFFFFF1E3F, 0x3FFD), new(0xB123F581D2ABEF6C, 0x3FFF), new(0xC48FD6074AAFBDB0, 0x3FFD)),
        new(new(0xFFFFFFFFFFFF1C23, 0x3FFD), new(0xB504F333F9DE2CAD, 0x3FFF), new(0xD413CCCFE778B2B4, 0x3FFD)),
        new(new(0x8800000000006344, 0x3FFE), new(0xB8FBAF4762FBD0A1, 0x3FFF), new(0xE3EEBD1D8BEF4284, 0x3FFD)),
        new(new(0x9000000000005D67, 0x3FFE), new(0xBD08A39F580C668D, 0x3FFF), new(0xF4228E7D60319A34, 0x3FFD)),
        new(new(0x9800000000009127, 0x3FFE), new(0xC12C4CCA6670E042, 0x3FFF), new(0x82589994CCE1C084, 0x3FFE)),
        new(new(0x9FFFFFFFFFFF06F9, 0x3FFE), new(0xC5672A11550655C3, 0x3FFF), new(0x8ACE5422AA0CAB86, 0x3FFE)),
        new(new(0xA7FFFFFFFFFFF80D, 0x3FFE), new(0xC9B9BD866E2F234B, 0x3FFF), new(0x93737B0CDC5E4696, 0x3FFE)),
        new(new(0xAFFFFFFFFFFF1470, 0x3FFE), new(0xCE248C151F83FD69, 0x3FFF), new(0x9C49182A3F07FAD2, 0x3FFE)),
        new(new(0xB800000000000E0A, 0x3FFE), new(0xD2A81D91F12AEC5C, 0x3FFF), new(0xA5503B23E255D8B8, 0x3FFE)),
        new(new(0xC00000000000B7FA, 0x3FFE), new(0xD744FCCAD69DD630, 0x3FFF), new(0xAE89F995AD3BAC60, 0x3FFE)),
        new(new(0xC800000000003AA6, 0x3FFE), new(0xDBFBB797DAF25A44, 0x3FFF), new(0xB7F76F2FB5E4B488, 0x3FFE)),
        new(new(0xD00000000000A6AE, 0x3FFE), new(0xE0CCDEEC2A954685, 0x3FFF), new(0xC199BDD8552A8D0A, 0x3FFE)),
        new(new(0xD800000000004165, 0x3FFE), new(0xE5B906E77C837155, 0x3FFF), new(0xCB720DCEF906E2AA, 0x3FFE)),
        new(new(0xE00000000000582C, 0x3FFE), new(0xEAC0C6E7DD24713A, 0x3FFF), new(0xD5818DCFBA48E274, 0x3FFE)),
        new(new(0xE800000000001A5D, 0x3FFE), new(0xEFE4B99BDCDB06EB, 0x3FFF), new(0xDFC97337B9B60DD6, 0x3FFE)),
        new(new(0xEFFFFFFFFFFFC1EF, 0x3FFE), new(0xF5257D152486A2FA, 0x3FFF), new(0xEA4AFA2A490D45F4, 0x3FFE)),
        new(new(0xF800000000001069, 0x3FFE), new(0xFA83B2DB722A0E5C, 0x3FFF), new(0xF50765B6E4541CB8, 0x3FFE)),
        new(new(0x8000000000000000, 0x3FFF), new(0x8000000000000000, 0x4000), new(0x8000000000000000, 0x3FFF)),
    ];

    /// <summary>One row of QEMU's fpatan_table: arctan(k/8), k = 0..8, as a high and a low part.</summary>
    private readonly record struct AtanEntry(Float80 High, Float80 Low);

    private static readonly AtanEntry[] AtanTable =
    [
        new(new(0x0000000000000000, 0x0000), new(0x0000000000000000, 0x0000)),
        new(new(0xFEADD4D5617B6E33, 0x3FFB), new(0xDDA19D8305DDC420, 0xBFB9)),
        new(new(0xFADBAFC96406EB15, 0x3FFC), new(0xDB8F3DEBEF442FCC, 0x3FBB)),
        new(new(0xB7B0CA0F26F78474, 0x3FFD), new(0xEAB9BDBA460376FA, 0xBFBC)),
        new(new(0xED63382B0DDA7B45, 0x3FFD), new(0xDFC88BD978751A06, 0x3FBC)),
        new(new(0x8F005D5EF7F59F9B, 0x3FFE), new(0xB906BC2CCB886E90, 0x3FBD)),
        new(new(0xA4BC7D1934F70924, 0x3FFE), new(0xCD43F9522BED64F8, 0x3FBB)),
        new(new(0xB8053E2BC2319E74, 0x3FFE), new(0xD3496AB7BD6EEF0C, 0xBFBC)),
        new(new(0xC90FDAA22168C235, 0x3FFE), new(0xECE675D1FC8F8CBC, 0xBFBC)),
    ];
}
