package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/spf13/cobra"

	"github.com/tallyhq/tally/engine/crypto"
)

// password reads a passphrase from a file, or $TALLY_PASSWORD.
func password(file string) (string, error) {
	if file == "" {
		return os.Getenv("TALLY_PASSWORD"), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("password file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func loadKey(file, passFile string) (crypto.PrivateKey, error) {
	if file == "" {
		return nil, fmt.Errorf("--key is required: the key file that signs")
	}
	pass, err := password(passFile)
	if err != nil {
		return nil, err
	}
	return crypto.LoadKeyFile(file, pass)
}

func keysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Create and inspect encrypted key files"}
	var suite, out, passFile string
	newCmd := &cobra.Command{
		Use:   "new",
		Short: "Create a key file (passphrase from --password-file or $TALLY_PASSWORD)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := crypto.ByName(suite)
			if err != nil {
				return err
			}
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			if _, err := os.Stat(out); err == nil {
				return fmt.Errorf("%s exists; refusing to overwrite a key", out)
			}
			pass, err := password(passFile)
			if err != nil {
				return err
			}
			key, err := s.GenerateKey()
			if err != nil {
				return err
			}
			if err := crypto.SaveKeyFile(out, key, pass); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "address %s\npubkey  %s\nsuite   %s\nfile    %s\n", key.Address().Hex(), hexutil.Encode(key.PublicKey()), s.Name(), out)
			return nil
		},
	}
	newCmd.Flags().StringVar(&suite, "suite", crypto.SuiteSecp256k1, "crypto suite: secp256k1 or sm")
	newCmd.Flags().StringVar(&out, "out", "", "key file to write")
	newCmd.Flags().StringVar(&passFile, "password-file", "", "file holding the passphrase")
	var keyFile string
	showCmd := &cobra.Command{
		Use:   "show",
		Short: "Print a key file's address and public key",
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := loadKey(keyFile, passFile)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "address %s\npubkey  %s\nsuite   %s\n", key.Address().Hex(), hexutil.Encode(key.PublicKey()), key.Suite().Name())
			return nil
		},
	}
	showCmd.Flags().StringVar(&keyFile, "key", "", "key file")
	showCmd.Flags().StringVar(&passFile, "password-file", "", "file holding the passphrase")
	cmd.AddCommand(newCmd, showCmd)
	return cmd
}
