// The certificate as a one-page PDF with a QR code to the public verification page.
import { PDFDocument, StandardFonts, rgb } from 'pdf-lib';
import QRCode from 'qrcode';

export interface PdfInput {
  learnerName: string;
  courseTitle: string;
  issuedAt: Date;
  status: 'pending' | 'confirmed' | 'revoked';
  documentHash: string;
  verifyUrl: string;
  network: string;
  txHash: string | null;
  ledger: number | null;
}

const INK = rgb(0.11, 0.13, 0.2);
const MUTED = rgb(0.4, 0.42, 0.48);

/** The standard fonts speak WinAnsi only: anything else becomes '?' rather than failing the PDF. */
function winAnsi(text: string): string {
  return text.normalize('NFC').replace(/[^\x20-\x7e\u00a0-\u00ff]/g, '?');
}

export async function renderCertificatePdf(input: PdfInput): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  pdf.setTitle(winAnsi(`Certificate: ${input.courseTitle}`));
  pdf.setAuthor('Starling');
  pdf.setSubject(input.verifyUrl);
  pdf.setKeywords([`sha256:${input.documentHash}`]);
  pdf.setCreator('Starling API');
  pdf.setCreationDate(input.issuedAt);
  const page = pdf.addPage([842, 595]); // A4 landscape, points
  const serif = await pdf.embedFont(StandardFonts.TimesRoman);
  const serifBold = await pdf.embedFont(StandardFonts.TimesRomanBold);
  const sans = await pdf.embedFont(StandardFonts.Helvetica);
  const mono = await pdf.embedFont(StandardFonts.Courier);
  const { width, height } = page.getSize();

  page.drawRectangle({
    x: 24,
    y: 24,
    width: width - 48,
    height: height - 48,
    borderColor: INK,
    borderWidth: 2,
  });
  const centred = (text: string, y: number, size: number, font = serif, color = INK) => {
    const t = winAnsi(text);
    let s = size;
    while (font.widthOfTextAtSize(t, s) > width - 120 && s > 8) s -= 1;
    page.drawText(t, { x: (width - font.widthOfTextAtSize(t, s)) / 2, y, size: s, font, color });
  };
  centred('STARLING', height - 90, 16, sans, MUTED);
  centred('Certificate of Completion', height - 150, 40, serifBold);
  centred('This certifies that', height - 200, 16, serif, MUTED);
  centred(input.learnerName, height - 250, 34, serifBold);
  centred('has completed the course', height - 290, 16, serif, MUTED);
  centred(input.courseTitle, height - 335, 26, serif);
  centred(`on ${input.issuedAt.toISOString().slice(0, 10)}`, height - 370, 14, serif, MUTED);
  if (input.status === 'revoked') centred('REVOKED', height - 410, 28, sans, rgb(0.75, 0.1, 0.1));

  const qrSize = 120;
  const png = await QRCode.toBuffer(input.verifyUrl, {
    type: 'png',
    errorCorrectionLevel: 'M',
    margin: 1,
    scale: 8,
  });
  const qr = await pdf.embedPng(png);
  page.drawImage(qr, { x: width - 60 - qrSize, y: 60, width: qrSize, height: qrSize });
  page.drawText('Scan to verify', { x: width - 60 - qrSize + 22, y: 46, size: 9, font: sans, color: MUTED });

  const proof =
    input.status === 'pending'
      ? `Being recorded on Stellar (${input.network}).`
      : `Recorded on Stellar (${input.network})${input.ledger ? ` in ledger ${input.ledger}` : ''}.`;
  const lines = [
    winAnsi(`Verify: ${input.verifyUrl}`),
    winAnsi(proof),
    `Document SHA-256: ${input.documentHash}`,
    ...(input.txHash ? [`Transaction: ${input.txHash}`] : []),
  ];
  lines.forEach((line, i) =>
    page.drawText(line, { x: 60, y: 120 - i * 14, size: 8, font: mono, color: MUTED }),
  );
  return pdf.save({ useObjectStreams: false });
}
