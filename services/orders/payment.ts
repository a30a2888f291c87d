// The seam for a payment step. The checkout asks it between writing the order (PENDING) and
// committing the stock: approved → commit → CONFIRMED; declined → release → CANCELLED. Payment
// itself is out of scope: the default step approves every order. A real one (a card
// authorisation, say) implements PaymentStep and is passed to createOrdersService().
export interface PayableOrder {
  id: string;
  customerId: string;
  currency: string;
  totalCents: number;
}

export type PaymentDecision = { approved: true; reference?: string } | { approved: false; reason: string };

export interface PaymentStep {
  authorize(order: PayableOrder): Promise<PaymentDecision>;
}

/** No payment: every order is approved. */
export const approveEveryOrder: PaymentStep = {
  authorize: () => Promise.resolve({ approved: true }),
};
