package hub

import (
	"errors"

	"ndikiosk/kiosk"
)

// The kiosk channel: one WebSocket a kiosk opens to the hub
// (ConnectPath, with its credential as a bearer token), carrying JSON text
// messages both ways. The hub sends Hello once, then every Screen of the
// kiosk's engine; the kiosk sends the visitor's taps and, for Face, the
// camera's stills when asked.
const (
	ConnectPath = "/kiosk/connect"
	EnrolPath   = "/kiosk/enrol"
)

// Message types.
const (
	// hub → kiosk
	MsgHello  = "hello"  // Settings
	MsgScreen = "screen" // Screen
	MsgReply  = "reply"  // Seq, Error: the answer to a confirm
	MsgFrame  = "frame?" // Seq: send a still from the camera
	// kiosk → hub
	MsgCancel     = "cancel"
	MsgConfirm    = "confirm" // Seq, Host, Purpose
	MsgDismiss    = "dismiss"
	MsgCheckOut   = "check-out" // Yes: the answer to "Check out now?"
	MsgFaceRetry  = "face-retry"
	MsgPause      = "pause"
	MsgResume     = "resume"
	MsgNoSingpass = "no-singpass" // a visitor without Singpass: call staff (the dashboard's alerts)
	MsgStill      = "frame"       // Seq, JPEG or Error: the still asked for
)

// Msg is one message on the kiosk channel.
type Msg struct {
	Type     string        `json:"type"`
	Seq      uint64        `json:"seq,omitempty"`
	Settings *Settings     `json:"settings,omitempty"`
	Screen   *kiosk.Screen `json:"screen,omitempty"`
	Host     string        `json:"host,omitempty"`
	Purpose  string        `json:"purpose,omitempty"`
	Yes      bool          `json:"yes,omitempty"`
	Error    string        `json:"error,omitempty"`
	JPEG     []byte        `json:"jpeg,omitempty"`
}

// Settings are what the hub tells a kiosk about itself: what its screens
// need that the screens themselves do not carry. They come from the hub's
// config and the kiosk's row (kiosks.settings).
type Settings struct {
	KioskID       string                   `json:"kiosk_id"`
	Mode          string                   `json:"mode"`
	MinAge        int                      `json:"min_age"`
	Venue         string                   `json:"venue"`
	Language      string                   `json:"language,omitempty"`
	PhoneCamera   bool                     `json:"phone_camera"` // the QR is a web address for the phone's camera (FAPI)
	Sandbox       bool                     `json:"sandbox"`
	Face          bool                     `json:"face"` // the hub will ask for stills
	RetentionDays int                      `json:"retention_days"`
	Contact       string                   `json:"contact"`
	Alternative   string                   `json:"alternative"`
	Local         map[string]kiosk.Wording `json:"local,omitempty"` // contact and alternative by language
}

// Overrides are the per-kiosk settings kept in kiosks.settings; a zero
// field keeps the hub's default. The mode is the hub's alone: Singpass
// registers a relying party with the data it may ask for, so age checks
// (date of birth) and visitor registration (name, mobile) are two hub
// configs, each with its own registration.
type Overrides struct {
	MinAge   int      `json:"min_age,omitempty"`
	Venue    string   `json:"venue,omitempty"`
	Language string   `json:"language,omitempty"`
	Hosts    []string `json:"hosts,omitempty"`
	Purposes []string `json:"purposes,omitempty"`
}

// Confirm's errors as the channel names them.
const (
	errTooLong = "too-long"
	errChoice  = "choice"
	errOther   = "refused"
)

func confirmErrorName(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, kiosk.ErrTooLong):
		return errTooLong
	case errors.Is(err, kiosk.ErrChoice):
		return errChoice
	}
	return errOther
}

// ConfirmError turns a reply's error back into Confirm's.
func ConfirmError(name string) error {
	switch name {
	case "":
		return nil
	case errTooLong:
		return kiosk.ErrTooLong
	case errChoice:
		return kiosk.ErrChoice
	}
	return errors.New("the hub did not take the choice")
}
