// Request shapes of the users API (TypeBox). Passwords must be well-formed text without control
// characters (a lone surrogate would silently hash like U+FFFD); strength is checked separately.
import { Type } from '@sinclair/typebox';
import { Email, Text, validator } from '../kit/validation.js';
import { MAX_PASSWORD_LENGTH } from './password-policy.js';

export const Register = validator(
  Type.Object(
    {
      email: Email(),
      password: Text({ maxLength: MAX_PASSWORD_LENGTH }),
      name: Text({ maxLength: 100 }),
    },
    { additionalProperties: false },
  ),
);

export const Login = validator(
  Type.Object(
    {
      email: Email(),
      // Longer than any password we accept, but bounded so a login cannot ask for a huge hash input.
      password: Text({ maxLength: 1024 }),
    },
    { additionalProperties: false },
  ),
);

/** An opaque refresh token as login hands it out (43 base64url characters); bounded either way. */
const RefreshToken = () => Type.String({ pattern: '^[A-Za-z0-9_-]{20,200}$', maxLength: 200 });

export const Refresh = validator(Type.Object({ refreshToken: RefreshToken() }, { additionalProperties: false }));

export const Logout = Refresh;

export const ChangePassword = validator(
  Type.Object(
    {
      currentPassword: Text({ maxLength: 1024 }),
      newPassword: Text({ maxLength: MAX_PASSWORD_LENGTH }),
    },
    { additionalProperties: false },
  ),
);
