// The README's samples import `sendWelcomeEmail` from here; the worker prints what it would send.
export async function sendWelcomeEmail(email: string, userId: number): Promise<void> {
  console.log(`sending welcome email to ${email} (user ${userId})`);
}
